-- One row per failure that started on a day in [$start_day, $end_day]: the input of DORA
-- change failure rate and time to restore. Four kinds (README "Lead time and failures:
-- sources and rules"):
-- * incident: an Opsgenie alert of priority P1 or P2 (as created) whose Create was seen.
--   started_at = alert.createdAt; resolved_at = the first Close's alert.updatedAt, else NULL.
-- * rollback: a Lambda UpdateFunctionCode whose codeSha256 differs from the previous
--   deployment of the function but equals that of an earlier one: the previous deployment
--   failed. started_at = its deployed_at, resolved_at = the rollback's deployed_at.
-- * circuit_breaker: an ECS SERVICE_DEPLOYMENT_FAILED. started_at = detail.updatedAt;
--   resolved_at = the service's next SERVICE_DEPLOYMENT_COMPLETED after it (the rollback
--   reaching steady state), else NULL.
-- * failed_deployment: a custom `Deployment` event with status `failed`. started_at =
--   detail.finished_at; resolved_at = the component's (or resource's) next successful
--   deployment after it, else NULL. Linked like a circuit breaker.
-- Linked deployment: a rollback's is the deployment rolled back. An incident's (a
-- circuit breaker's) is the latest successful production deployment of the component
-- (the service) at or before started_at: the change live when it failed. For a circuit
-- breaker that is the deployment ECS rolls back to, not the one that failed (a failed
-- ECS deployment never completes, so it is no deployment and cannot be linked).
-- Owners, environment and component come from the linked deployment, else from the
-- subject's latest deployment of any environment at or before started_at, else they are
-- 'unassigned' (the component: the alert's, or the service's name).
with deployments as (
    select * from marts.fct_deployments
),

alert_creates as (
    select * from staging.stg_opsgenie_alerts
    where problem is null and action = 'Create'
    qualify row_number() over (
        partition by alert_id order by delivered_at, source_object, source_event_id
    ) = 1
),

alert_closes as (
    select alert_id, min(updated_at) as closed_at
    from staging.stg_opsgenie_alerts
    where problem is null and action = 'Close'
    group by alert_id
),

incidents as (
    select
        'opsgenie:' || c.alert_id as failure_id,
        'incident' as kind,
        c.created_at as started_at,
        x.closed_at as resolved_at,
        c.component_name as subject_component,
        null as subject_resource,
        coalesce(c.component_name, 'unassigned') as named_component,
        c.source_event_id
    from alert_creates c
    left join alert_closes x using (alert_id)
    where c.priority in ('P1', 'P2')
),

ecs_failures as (
    select f.* replace (coalesce(a.long_arn, f.service_arn) as service_arn)
    from staging.stg_ecs_deployment_failures f
    left join staging.stg_ecs_service_arns a on a.short_arn = f.service_arn
    where f.problem is null
    qualify row_number() over (
        partition by failure_id order by delivered_at, source_object, source_event_id
    ) = 1
),

circuit_breakers as (
    select
        f.failure_id,
        'circuit_breaker' as kind,
        f.started_at,
        (
            select min(d.deployed_at) from deployments d
            where d.event_source = 'ecs'
              and d.resource_id = f.service_arn
              and d.deployed_at > f.started_at
        ) as resolved_at,
        null as subject_component,
        f.service_arn as subject_resource,
        f.service_name as named_component,
        f.source_event_id
    from ecs_failures f
),

custom_failures as (
    select
        f.failure_id,
        'failed_deployment' as kind,
        f.started_at,
        (
            select min(d.deployed_at) from deployments d
            where (d.component_name = f.component_name or d.resource_id = f.resource_arn)
              and d.deployed_at > f.started_at
        ) as resolved_at,
        f.component_name as subject_component,
        f.resource_arn as subject_resource,
        coalesce(f.component_name, nullif(f.resource_name, ''), 'unassigned') as named_component,
        f.source_event_id
    from staging.stg_custom_deployment_failures f
    qualify row_number() over (
        partition by f.failure_id order by f.landed_at, f.source_object, f.source_event_id
    ) = 1
),

subjects as (
    select * from incidents
    union all by name
    select * from circuit_breakers
    union all by name
    select * from custom_failures
),

owner_candidates as (
    select s.failure_id, d.deployment_id, d.environment
    from subjects s
    join deployments d
      on (d.component_name = s.subject_component or d.resource_id = s.subject_resource)
     and d.deployed_at <= s.started_at
    qualify row_number() over (
        partition by s.failure_id
        order by d.environment = 'production' desc, d.deployed_at desc, d.deployment_id desc
    ) = 1
),

linked_subjects as (
    select
        s.*,
        o.deployment_id as owner_deployment_id,
        case when o.environment = 'production' then o.deployment_id end as deployment_id
    from subjects s
    left join owner_candidates o using (failure_id)
),

lambda_code as (
    select deployment_id, detail ->> '$.responseElements.codeSha256' as code_sha256
    from staging.stg_lambda_deployments
    where problem is null
    qualify row_number() over (
        partition by deployment_id order by delivered_at, source_object, source_event_id
    ) = 1
),

lambda_history as (
    select
        d.deployment_id,
        d.deployed_at,
        d.resource_id,
        c.code_sha256,
        d.source_event_id,
        row_number() over w as n,
        lag(d.deployment_id) over w as previous_deployment_id,
        lag(d.deployed_at) over w as previous_deployed_at,
        lag(c.code_sha256) over w as previous_code_sha256
    from deployments d
    join lambda_code c using (deployment_id)
    where d.event_source = 'lambda'
    window w as (partition by d.resource_id order by d.deployed_at, d.deployment_id)
),

rollbacks as (
    select
        'rollback:' || r.deployment_id as failure_id,
        'rollback' as kind,
        r.previous_deployed_at as started_at,
        r.deployed_at as resolved_at,
        r.previous_deployment_id as owner_deployment_id,
        r.previous_deployment_id as deployment_id,
        r.source_event_id
    from lambda_history r
    where r.code_sha256 is distinct from r.previous_code_sha256
      and exists (
          select 1 from lambda_history e
          where e.resource_id = r.resource_id
            and e.n < r.n - 1
            and e.code_sha256 = r.code_sha256
      )
),

failures as (
    select failure_id, kind, started_at, resolved_at, owner_deployment_id, deployment_id,
        named_component, source_event_id
    from linked_subjects
    union all by name
    select failure_id, kind, started_at, resolved_at, owner_deployment_id, deployment_id,
        'unassigned' as named_component, source_event_id
    from rollbacks
),

final as (
    select
        f.failure_id,
        f.kind,
        f.started_at,
        f.resolved_at,
        cast(timezone('UTC', f.started_at) as date) as day,
        f.deployment_id,
        coalesce(o.component_name, f.named_component) as component_name,
        coalesce(o.environment, 'unassigned') as environment,
        coalesce(o.ownership_ba, 'unassigned') as ownership_ba,
        coalesce(o.ownership_pod, 'unassigned') as ownership_pod,
        coalesce(o.ownership_team, 'unassigned') as ownership_team,
        f.source_event_id
    from failures f
    left join deployments o on o.deployment_id = f.owner_deployment_id
    where cast(timezone('UTC', f.started_at) as date) between $start_day and $end_day
)

select * from final
