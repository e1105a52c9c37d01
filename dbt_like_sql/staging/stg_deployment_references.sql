-- The names an incident may give a deployment, one row per (reference, deployment):
-- rule 'deployment_id': the id as fct_deployments has it ('lambda:<eventID>',
-- 'ecs:<deploymentId>', 'eks:<uid>:<count>') or as its source has it (the CloudTrail
-- eventID, the ECS deploymentId `ecs-svc/…`); 'code_sha256': Lambda's codeSha256;
-- 'image_digest': a container image's `sha256:<hex>`. ECS deployment events carry no task
-- definition and the Kubernetes exporters no image, so those deployments are named by id.
-- A code or digest names every deployment of it: fct_failures takes the one live when the
-- incident started.
with deployments as (
    select distinct deployment_id, event_source
    from staging.stg_deployment_events
    where problem is null
),

code as (
    select * from staging.stg_deployment_code
),

final as (
    select deployment_id, 'deployment_id' as rule, deployment_id as reference
    from deployments
    union all
    select deployment_id, 'deployment_id', substr(deployment_id, length(event_source) + 2)
    from deployments
    where event_source in ('lambda', 'ecs')
    union all
    select deployment_id, 'code_sha256', code_sha256 from code where code_sha256 is not null
    union all
    select deployment_id, 'image_digest', image_digest from code where image_digest is not null
)

select * from final
