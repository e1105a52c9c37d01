-- Every ECS "ECS Deployment State Change" arrival, read once: its event name, deployment,
-- time (detail.updatedAt) and service (resources[0]: cluster/service form, or the short
-- pre-2021 service/<name> form), with what makes it unusable. Completions become
-- deployments (stg_ecs_deployments), circuit-breaker failures failures
-- (stg_ecs_deployment_failures).
with events as (
    select
        *,
        try_cast(detail ->> 'updatedAt' as timestamptz) as updated_at,
        resources ->> '$[0]' as service_arn
    from raw.candidate_events
    where source = 'aws.ecs' and detail_type = 'ECS Deployment State Change'
),

final as (
    select
        detail ->> 'eventName' as event_name,
        'ecs:' || (detail ->> 'deploymentId') as deployment_key,
        updated_at,
        coalesce(service_arn, '') as service_arn,
        regexp_extract(coalesce(service_arn, ''), ':service/(?:[^/]+/)?([^/]+)$', 1) as service_name,
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(
            case
                when detail ->> 'deploymentId' is null then 'missing detail.deploymentId'
                when updated_at is null then 'missing or unreadable detail.updatedAt'
                when service_name = ''
                    then 'missing or unreadable resources[0] (the service ARN)'
            end,
            ops.change_time_problem(updated_at, delivered_at)
        ) as problem,
        detail
    from events
)

select * from final
