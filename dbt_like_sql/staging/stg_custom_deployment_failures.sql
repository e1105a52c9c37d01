-- Custom `Deployment` events with status `failed`: failed deployments, every arrival. They
-- are no deployments; marts/fct_failures.sql makes them failures of kind
-- `failed_deployment` (change failure rate and failed-deployment recovery time).
select
    deployment_id as failure_id,
    finished_at as started_at,
    coalesce(component, labels ->> '$."Component.Name"') as component_name,
    nullif(detail ->> 'resource', '') as resource_arn,
    resource_name,
    source_event_id,
    source_object,
    landed_at,
    delivered_at
from staging.stg_custom_deployment_events
where status = 'failed' and problem is null
