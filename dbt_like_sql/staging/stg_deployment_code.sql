-- What each deployment deployed, where its events say so, one row per deployment that says:
-- * Lambda: responseElements.codeSha256 (and the image digest of a container-image function,
--   requestParameters.imageUri `…@sha256:<hex>`). `ships_code`: the first deployment of that
--   code on the function; a later one redeploys earlier code. `is_rollback`: the code differs
--   from the previous deployment's and was first deployed before it (going back to older
--   code: the previous deployment failed). Redeploying code newer than what a rollback
--   restored (N5 → N3 → N5) is a roll-forward: no rollback, and no new commits.
-- * ECS: a deployment whose SERVICE_DEPLOYMENT_IN_PROGRESS says "rolling back to
--   deploymentId …" is the circuit breaker's rollback: it ships no new code.
-- Deployments absent here (EKS: the exporters strip what would say which code) ship code.
with lambda_calls as (
    select
        deployment_id,
        deployed_at,
        resource_id,
        detail ->> '$.responseElements.codeSha256' as code_sha256,
        nullif(regexp_extract(
            coalesce(detail ->> '$.requestParameters.imageUri', ''), '@(sha256:[0-9a-f]{64})$', 1
        ), '') as image_digest
    from staging.stg_lambda_deployments
    where problem is null
    qualify row_number() over (
        partition by deployment_id order by delivered_at, source_object, source_event_id
    ) = 1
),

lambda_code as (
    select
        *,
        min(deployed_at) over (partition by resource_id, code_sha256) as code_first_deployed_at,
        row_number() over (
            partition by resource_id, code_sha256 order by deployed_at, deployment_id
        ) as nth_of_code
    from lambda_calls
),

lambda_history as (
    select
        *,
        lag(deployment_id) over w as previous_deployment_id,
        lag(deployed_at) over w as previous_deployed_at,
        lag(code_sha256) over w as previous_code_sha256,
        lag(code_first_deployed_at) over w as previous_code_first_deployed_at
    from lambda_code
    window w as (partition by resource_id order by deployed_at, deployment_id)
),

lambda_final as (
    select
        deployment_id,
        code_sha256,
        image_digest,
        code_sha256 is null or nth_of_code = 1 as ships_code,
        coalesce(
            code_sha256 <> previous_code_sha256
            and code_first_deployed_at < previous_code_first_deployed_at,
            false
        ) as is_rollback,
        previous_deployment_id,
        previous_deployed_at
    from lambda_history
),

ecs_rollbacks as (
    select distinct
        deployment_key as deployment_id,
        null::varchar as code_sha256,
        null::varchar as image_digest,
        false as ships_code,
        false as is_rollback,  -- its failure is the circuit breaker's (stg_ecs_deployment_failures)
        null::varchar as previous_deployment_id,
        null::timestamptz as previous_deployed_at
    from staging.stg_ecs_deployment_events
    where event_name = 'SERVICE_DEPLOYMENT_IN_PROGRESS'
      and problem is null
      and detail ->> 'reason' like '%rolling back to deploymentId%'
),

final as (
    select * from lambda_final
    union all by name
    select * from ecs_rollbacks
)

select * from final
