-- Every incident, one row each, whatever tool reported it: the `incident` failures of
-- fct_failures. Another incident source (e.g. Jira Service Management, Opsgenie's
-- successor) is one more staging model with these columns, added to the union below.
--   failure_id            '<source>:<its id>', unique
--   started_at, resolved_at (NULL while open)
--   severity              as the source says it (Opsgenie: P1 | P2)
--   component_name        NULL when the source names none
--   environment           NULL when the source names none (then: the linked deployment's)
--   deployment_reference  a deployment the incident names: its id, Lambda codeSha256,
--                         image digest (fct_failures links it)
--   commit_reference      a commit the incident names (lowercase; 7+ hex digits)
with opsgenie as (
    select * from staging.stg_opsgenie_incidents
),

custom as (
    -- one row per id (a tool may send it when it starts and again when it is resolved):
    -- each field from the first arrival that gives it, resolved_at the earliest given
    select
        'custom:' || incident_id as failure_id,
        arg_min(started_at, (delivered_at, source_object, source_event_id)) as started_at,
        min(resolved_at) as resolved_at,
        arg_min(severity, (delivered_at, source_object, source_event_id)) as severity,
        arg_min(component_name, (delivered_at, source_object, source_event_id)) as component_name,
        arg_min(environment, (delivered_at, source_object, source_event_id)) as environment,
        arg_min(deployment_reference, (delivered_at, source_object, source_event_id))
            as deployment_reference,
        arg_min(commit_reference, (delivered_at, source_object, source_event_id)) as commit_reference,
        arg_min(source_event_id, (delivered_at, source_object, source_event_id)) as source_event_id
    from staging.stg_custom_incidents
    where problem is null
    group by incident_id
),

final as (
    select * from opsgenie
    union all by name
    select * from custom
)

select * from final
