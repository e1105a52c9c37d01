-- ECS deployments stopped by the deployment circuit breaker: SERVICE_DEPLOYMENT_FAILED
-- (eventType ERROR), every arrival. Time is detail.updatedAt; the service is resources[0].
with failures as (
    select
        *,
        try_cast(detail ->> 'updatedAt' as timestamptz) as updated_at,
        resources ->> '$[0]' as service_arn
    from raw.candidate_events
    where source = 'aws.ecs'
      and detail_type = 'ECS Deployment State Change'
      and detail ->> 'eventName' = 'SERVICE_DEPLOYMENT_FAILED'
),

final as (
    select
        'ecs:' || (detail ->> 'deploymentId') as failure_id,
        updated_at as started_at,
        coalesce(service_arn, '') as service_arn,
        regexp_extract(coalesce(service_arn, ''), ':service/(?:[^/]+/)?([^/]+)$', 1) as service_name,
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        case
            when detail ->> 'deploymentId' is null then 'missing detail.deploymentId'
            when updated_at is null then 'missing or unreadable detail.updatedAt'
            when service_name = '' then 'missing or unreadable resources[0] (the service ARN)'
        end as problem,
        detail
    from failures
)

select * from final
