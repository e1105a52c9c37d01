-- ECS service deployments that reached steady state (SERVICE_DEPLOYMENT_COMPLETED).
-- Time is detail.updatedAt, identity the deploymentId, the resource the service ARN in
-- resources[0] (cluster/service form, or the short pre-2021 service/<name> form).
with completions as (
    select
        *,
        try_cast(detail ->> 'updatedAt' as timestamptz) as updated_at,
        resources ->> '$[0]' as service_arn
    from raw.candidate_events
    where source = 'aws.ecs'
      and detail_type = 'ECS Deployment State Change'
      and detail ->> 'eventName' = 'SERVICE_DEPLOYMENT_COMPLETED'
),

final as (
    select
        'ecs:' || (detail ->> 'deploymentId') as deployment_id,
        updated_at as deployed_at,
        'ecs' as event_source,
        'ecs_service' as component_type,
        coalesce(service_arn, '') as resource_id,
        regexp_extract(coalesce(service_arn, ''), ':service/(?:[^/]+/)?([^/]+)$', 1) as resource_name,
        null::json as labels,
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        case
            when detail ->> 'deploymentId' is null then 'missing detail.deploymentId'
            when updated_at is null then 'missing or unreadable detail.updatedAt'
            when resource_name = '' then 'missing or unreadable resources[0] (the service ARN)'
        end as problem,
        detail
    from completions
)

select * from final
