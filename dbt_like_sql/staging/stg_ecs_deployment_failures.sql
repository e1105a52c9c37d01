-- ECS deployments stopped by the deployment circuit breaker: SERVICE_DEPLOYMENT_FAILED
-- (eventType ERROR), every arrival. Time is detail.updatedAt; the service is resources[0].
select
    deployment_key as failure_id,
    updated_at as started_at,
    service_arn,
    service_name,
    source_event_id,
    source_object,
    landed_at,
    delivered_at,
    problem,
    detail
from staging.stg_ecs_deployment_events
where event_name = 'SERVICE_DEPLOYMENT_FAILED'
