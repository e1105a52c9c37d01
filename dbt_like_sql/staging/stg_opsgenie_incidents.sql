-- Opsgenie alerts that are incidents, one row per alert (the alert rules live here):
-- an alert of priority P1 or P2 (as created) whose Create was seen. started_at =
-- alert.createdAt; resolved_at = the first Close's alert.updatedAt, else NULL. An alert may
-- name what failed: details "deployment_id" / "commit", or tags `deployment:<ref>` /
-- `commit:<sha>` (what the Create carried).
with alerts as (
    select * from staging.stg_opsgenie_alerts
    where problem is null
),

creates as (
    select * from alerts
    where action = 'Create'
    qualify row_number() over (
        partition by alert_id order by delivered_at, source_object, source_event_id
    ) = 1
),

closes as (
    select alert_id, min(updated_at) as closed_at
    from alerts
    where action = 'Close'
    group by alert_id
),

tagged as (
    select
        *,
        json_extract_string(detail, '$.alert.tags[*]') as tags,
        detail -> '$.alert.details' as details
    from creates
    where priority in ('P1', 'P2')
),

final as (
    select
        'opsgenie:' || t.alert_id as failure_id,
        t.created_at as started_at,
        x.closed_at as resolved_at,
        t.priority as severity,
        t.component_name,
        null::varchar as environment,
        coalesce(
            nullif(trim(t.details ->> 'deployment_id'), ''),
            list_filter(t.tags, lambda tag: tag like 'deployment:_%')[1][12:]
        ) as deployment_reference,
        lower(coalesce(
            nullif(trim(t.details ->> 'commit'), ''),
            list_filter(t.tags, lambda tag: tag like 'commit:_%')[1][8:]
        )) as commit_reference,
        t.source_event_id
    from tagged t
    left join closes x using (alert_id)
)

select * from final
