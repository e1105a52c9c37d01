-- ECS service deployments that reached steady state (SERVICE_DEPLOYMENT_COMPLETED).
-- Time is detail.updatedAt, identity the deploymentId, the resource the service ARN.
select
    deployment_key as deployment_id,
    updated_at as deployed_at,
    'ecs' as event_source,
    'ecs_service' as component_type,
    service_arn as resource_id,
    service_name as resource_name,
    null::json as labels,
    source_event_id,
    source_object,
    landed_at,
    delivered_at,
    problem,
    detail
from staging.stg_ecs_deployment_events
where event_name = 'SERVICE_DEPLOYMENT_COMPLETED'
