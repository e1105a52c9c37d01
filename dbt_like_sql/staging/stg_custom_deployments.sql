-- Custom `Deployment` events with status `succeeded`: deployments (event_source `custom`,
-- component_type `custom`). Time is detail.finished_at, identity `custom:<detail.id>`.
-- Unusable ones are kept here too, for their dead letter (stg_deployment_events).
select
    deployment_id,
    finished_at as deployed_at,
    'custom' as event_source,
    'custom' as component_type,
    resource_id,
    resource_name,
    labels,
    source_event_id,
    source_object,
    landed_at,
    delivered_at,
    problem,
    detail
from staging.stg_custom_deployment_events
where status = 'succeeded' or problem is not null
