-- The custom `Deployment` event any tool can send with `aws events put-events`
-- (docs/custom-events.md): source DORA4_CUSTOM_SOURCE (ops.event_sources, kind 'custom'),
-- detail-type `Deployment`, detail {id, finished_at (RFC 3339, with its zone), component,
-- environment, status succeeded|failed, version, tags {schema keys}} and/or a `resource`
-- ARN whose AWS tags apply. Every arrival, read once, with what makes it unusable (a dead
-- letter). Succeeded ones are deployments (stg_custom_deployments), failed ones failures
-- (stg_custom_deployment_failures). The event's own component, environment and tags win
-- over the resource's tags: `labels` carries them, merged, as EKS labels are carried.
with events as (
    select
        *,
        nullif(trim(detail ->> 'id'), '') as custom_id,
        detail ->> 'finished_at' as finished_text,
        detail ->> 'status' as status,
        nullif(trim(detail ->> 'component'), '') as component,
        nullif(trim(detail ->> 'environment'), '') as environment,
        nullif(trim(detail ->> 'resource'), '') as resource_arn,
        json_type(detail, '$.tags') as tags_type
    from raw.candidate_events
    where source_is(source, 'custom') and detail_type = 'Deployment'
),

parsed as (
    select
        *,
        -- RFC 3339 only: a time without its zone would be read in the session's zone
        case
            when regexp_matches(
                finished_text,
                '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$'
            ) then try_cast(upper(finished_text) as timestamptz)  -- RFC 3339 allows t and z
        end as finished_at,
        json_merge_patch(
            json_merge_patch(
                case when tags_type = 'OBJECT' then detail -> '$.tags' else '{}' end,
                case when component is not null
                    then json_object('Component.Name', component) else '{}' end
            ),
            case when environment is not null
                then json_object('Environment', environment) else '{}' end
        ) as labels
    from events
),

final as (
    select
        'custom:' || custom_id as deployment_id,
        finished_at,
        status,
        coalesce(resource_arn, component, labels ->> '$."Component.Name"', '') as resource_id,
        coalesce(component, regexp_extract(coalesce(resource_arn, ''), '[:/]([^:/]+)$', 1), '')
            as resource_name,
        component,
        labels,
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(case
            when custom_id is null then 'custom Deployment: missing detail.id'
            when finished_at is null
                then 'custom Deployment: missing or unreadable detail.finished_at '
                    || '(RFC 3339 with a zone, e.g. 2026-03-17T14:02:11Z)'
            when status is null or status not in ('succeeded', 'failed')
                then 'custom Deployment: detail.status must be "succeeded" or "failed"'
            when tags_type is not null and tags_type <> 'OBJECT'
                then 'custom Deployment: detail.tags is not an object'
            when resource_arn is not null and not starts_with(resource_arn, 'arn:')
                then 'custom Deployment: detail.resource is not an ARN'
            when tags_type is null and resource_arn is null
                then 'custom Deployment: neither detail.tags nor detail.resource '
                    || '(nothing says whose deployment it is)'
        end, ops.change_time_problem(finished_at, delivered_at)) as problem,
        detail
    from parsed
)

select * from final
