-- The custom `Incident` event any tool can send (docs/custom-events.md, "Incident"): source
-- DORA4_CUSTOM_SOURCE (ops.event_sources kind 'custom'), detail-type `Incident`, detail
--   {"id", "started_at", "resolved_at" (optional), "severity", "component", "environment",
--    "deployment_id" (optional), "commit" (optional)}
-- with ISO 8601 times that carry their offset. Every arrival; one without what the rule
-- needs has a `problem` and is dead-lettered at landing (stg_dora_key_problems).
with events as (
    select
        *,
        detail ->> 'id' as incident_id,
        detail ->> 'started_at' as started_text,
        detail ->> 'resolved_at' as resolved_text,
        nullif(trim(detail ->> 'severity'), '') as severity,
        nullif(trim(detail ->> 'component'), '') as component_name,
        nullif(trim(detail ->> 'environment'), '') as environment,
        nullif(trim(detail ->> 'deployment_id'), '') as deployment_reference,
        lower(nullif(trim(detail ->> 'commit'), '')) as commit_reference
    from raw.candidate_events
    where source_is(source, 'custom') and detail_type = 'Incident'
),

timed as (
    select
        *,
        -- an offset is required: a local time without one would be read as UTC, silently
        case when regexp_matches(started_text, '(Z|[+-]\d\d:?\d\d)$')
             then try_cast(started_text as timestamptz) end as started_at,
        case when regexp_matches(resolved_text, '(Z|[+-]\d\d:?\d\d)$')
             then try_cast(resolved_text as timestamptz) end as resolved_at
    from events
),

final as (
    select
        event_id as source_event_id,
        incident_id,
        started_at,
        resolved_at,
        severity,
        component_name,
        environment,
        deployment_reference,
        commit_reference,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(case
            when nullif(trim(incident_id), '') is null then 'custom Incident: missing detail.id'
            when started_at is null
                then 'custom Incident: missing or unreadable detail.started_at (ISO 8601 with offset)'
            when resolved_text is not null and resolved_at is null
                then 'custom Incident: unreadable detail.resolved_at (ISO 8601 with offset)'
            when resolved_at < started_at
                then 'custom Incident: detail.resolved_at before detail.started_at'
            when severity is null then 'custom Incident: missing detail.severity'
            when component_name is null then 'custom Incident: missing detail.component'
            when environment is null then 'custom Incident: missing detail.environment'
        end, ops.change_time_problem(started_at, delivered_at)) as problem,
        detail
    from timed
)

select * from final
