-- Opsgenie alert webhooks (detail = Opsgenie's webhook body), every arrival. Read: `action`,
-- alert.alertId, alert.createdAt (epoch milliseconds), alert.updatedAt (Opsgenie's own
-- examples send it in epoch nanoseconds; read by magnitude: ns, us or ms), alert.priority,
-- and the component: alert.details["Component.Name"], else the first tag `component:<name>`.
-- Sources: the configured ones (DORA4_OPSGENIE_SOURCE), usually Opsgenie's EventBridge partner
-- sources, one per integration (`aws.partner/opsgenie.com/<org>/<integration>`), beside any
-- webhook relay; the detail is the alert webhook body whichever way it came, and its times
-- may arrive as strings. `integration` says which one sent it. An event from these sources
-- with neither `action` nor `alert` is not an alert: counted at landing, not read here.
with alerts as (
    select
        *,
        detail ->> 'action' as action,
        detail ->> '$.alert.alertId' as alert_id,
        try_cast(detail ->> '$.alert.createdAt' as bigint) as created_ms,
        try_cast(detail ->> '$.alert.updatedAt' as bigint) as updated_raw,
        detail ->> '$.alert.priority' as priority,
        coalesce(
            nullif(regexp_extract(source, '^aws\.partner/opsgenie\.com/(.+)$', 1), ''),
            detail ->> 'integrationName',
            source
        ) as integration,
        coalesce(
            nullif(trim(detail -> '$.alert.details' ->> '$."Component.Name"'), ''),
            list_filter(
                json_extract_string(detail, '$.alert.tags[*]'), lambda t: t like 'component:_%'
            )[1][11:]
        ) as component_name
    from raw.candidate_events
    where source_is(source, 'opsgenie')
      and (json_exists(detail, '$.action') or json_exists(detail, '$.alert'))
),

final as (
    select
        event_id as source_event_id,
        action,
        alert_id,
        priority,
        component_name,
        integration,
        timezone('UTC', epoch_ms(created_ms)) as created_at,
        timezone('UTC', make_timestamp(case
            when updated_raw >= 100000000000000000 then updated_raw // 1000  -- nanoseconds
            when updated_raw >= 100000000000000 then updated_raw              -- microseconds
            else updated_raw * 1000                                            -- milliseconds
        end)) as updated_at,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(
            case
                when alert_id is null then 'missing detail.alert.alertId'
                when action = 'Create' and created_ms is null
                    then 'missing or unreadable detail.alert.createdAt'
                when action = 'Close' and updated_raw is null
                    then 'missing or unreadable detail.alert.updatedAt'
            end,
            -- the time each action is read for: when the alert opened, when it closed
            ops.change_time_problem(
                case action when 'Create' then created_at when 'Close' then updated_at end,
                delivered_at
            )
        ) as problem,
        detail
    from alerts
)

select * from final
