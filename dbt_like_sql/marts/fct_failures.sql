-- One row per failure that started on a day in [$start_day, $end_day]: the input of DORA
-- change failure rate and time to restore. Four kinds (docs/metrics.md):
-- * incident: every row of stg_incidents (Opsgenie P1/P2 alerts, custom `Incident` events).
-- * rollback: a Lambda deployment back to older code (stg_deployment_code.is_rollback): the
--   previous deployment failed. started_at = its deployed_at, resolved_at = the rollback's
--   deployed_at. A roll-forward (N5 → N3 → N5) is no rollback (spec r2).
-- * circuit_breaker: an ECS SERVICE_DEPLOYMENT_FAILED. started_at = detail.updatedAt;
--   resolved_at = the service's next SERVICE_DEPLOYMENT_COMPLETED after it (the rollback
--   reaching steady state), else NULL.
-- * failed_deployment: a custom `Deployment` event with status `failed`. started_at =
--   detail.finished_at; resolved_at = the component's (or resource's) next successful
--   deployment after it, else NULL. Linked like a circuit breaker: to itself, a failed
--   attempt ('custom:<id>', no row of fct_deployments).
-- Linked deployment (`deployment_id`) and the rule that linked it (`link_rule`):
-- * rollback → 'rolled_back': the deployment rolled back.
-- * circuit_breaker → 'failed_attempt': the failed attempt itself ('ecs:<deploymentId>'),
--   which never completed and so is no row of fct_deployments: change failure rate counts
--   it as a failed change on its own (spec r2); the healthy deployment ECS rolls back to
--   is not blamed.
-- * incident naming a deployment (`deployment_reference`: an id, Lambda codeSha256, image
--   digest; see deployment_references) → that rule's name ('deployment_id', 'code_sha256',
--   'image_digest'): the named deployment (of a code named by several, the latest at or
--   before started_at, else the first after); naming a commit → 'commit': the production
--   deployment that first shipped it (fct_changes; the incident's component first, then the
--   latest at or before started_at). Explicit links win (spec r2).
-- * else → 'component_time': the latest successful production deployment of the
--   component (in the incident's environment, when it names one) at or before started_at.
-- * no deployment found → link_rule NULL. `link_reference` keeps what the incident named,
--   found or not.
-- Owners, environment and component come from the linked deployment (of a circuit breaker:
-- the service's), else from the subject's latest deployment of any environment at or
-- before started_at, else they are 'unassigned' (the component: the incident's, or the
-- service's name; the environment: the incident's, when it names one).
with deployments as (
    select * from marts.fct_deployments
),

incidents as (
    select
        failure_id,
        'incident' as kind,
        started_at,
        resolved_at,
        severity,
        component_name as subject_component,
        null as subject_resource,
        environment as subject_environment,
        coalesce(component_name, 'unassigned') as named_component,
        deployment_reference,
        commit_reference,
        source_event_id
    from staging.stg_incidents
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
        partition by f.failure_id order by f.delivered_at, f.source_object, f.source_event_id
    ) = 1
),

subjects as (
    select * from incidents
    union all by name
    select * from circuit_breakers
    union all by name
    select * from custom_failures
),

-- The names an incident may give a deployment: its id as fct_deployments has it
-- ('lambda:<eventID>', 'ecs:<deploymentId>', 'eks:<uid>:<count>') or as its source has it
-- (the CloudTrail eventID, the ECS deploymentId `ecs-svc/…`, CodeDeploy's `d-…`); Lambda's codeSha256; a
-- container image's digest. ECS deployment events carry no task definition and the
-- Kubernetes exporters no image, so those deployments are named by id.
references_named as (
    select * from incidents where deployment_reference is not null
),

deployment_references as (
    select d.deployment_id, 'deployment_id' as rule, d.deployment_id as reference
    from deployments d
    where d.deployment_id in (select deployment_reference from references_named)
    union all
    -- the source's own id: after the prefix (`lambda:`, `ecs:`, `codedeploy:`)
    select d.deployment_id, 'deployment_id', substr(d.deployment_id, strpos(d.deployment_id, ':') + 1)
    from deployments d
    where d.event_source in ('lambda', 'ecs')
      and substr(d.deployment_id, strpos(d.deployment_id, ':') + 1)
          in (select deployment_reference from references_named)
    union all
    select deployment_id, 'code_sha256', code_sha256 from staging.stg_deployment_code
    where code_sha256 in (select deployment_reference from references_named)
    union all
    select deployment_id, 'image_digest', image_digest from staging.stg_deployment_code
    where image_digest in (select deployment_reference from references_named)
),

named_deployments as (
    select i.failure_id, r.deployment_id, r.rule
    from references_named i
    join deployment_references r on r.reference = i.deployment_reference
    join deployments d using (deployment_id)
    qualify row_number() over (
        partition by i.failure_id
        order by d.deployed_at <= i.started_at desc,
            case when d.deployed_at <= i.started_at then d.deployed_at end desc,
            d.deployed_at, d.deployment_id
    ) = 1
),

named_commits as (
    select i.failure_id, c.deployment_id, 'commit' as rule
    from (select * from incidents where commit_reference is not null) i
    join marts.fct_changes c
      on length(i.commit_reference) >= 7 and starts_with(c.commit_sha, i.commit_reference)
    qualify row_number() over (
        partition by i.failure_id
        order by c.component_name = i.subject_component desc,
            c.deployed_at <= i.started_at desc,
            case when c.deployed_at <= i.started_at then c.deployed_at end desc,
            c.deployed_at, c.deployment_id
    ) = 1
),

explicit_links as (
    select * from named_deployments
    union all
    select * from named_commits
    where failure_id not in (select failure_id from named_deployments)
),

owner_candidates as (
    select s.failure_id, d.deployment_id, d.environment
    from subjects s
    join deployments d
      on (d.component_name = s.subject_component or d.resource_id = s.subject_resource)
     and d.deployed_at <= s.started_at
     and (s.subject_environment is null or d.environment = s.subject_environment)
    where s.failure_id not in (select failure_id from explicit_links)
    qualify row_number() over (
        partition by s.failure_id
        order by d.environment = 'production' desc, d.deployed_at desc, d.deployment_id desc
    ) = 1
),

linked_subjects as (
    select
        s.*,
        coalesce(e.deployment_id, o.deployment_id) as owner_deployment_id,
        case
            when s.kind in ('circuit_breaker', 'failed_deployment') then s.failure_id
            when e.deployment_id is not null then e.deployment_id
            when o.environment = 'production' then o.deployment_id
        end as deployment_id,
        case
            when s.kind in ('circuit_breaker', 'failed_deployment') then 'failed_attempt'
            when e.deployment_id is not null then e.rule
            when o.environment = 'production' then 'component_time'
        end as link_rule,
        case
            when s.deployment_reference is not null then 'deployment:' || s.deployment_reference
            when s.commit_reference is not null then 'commit:' || s.commit_reference
        end as link_reference
    from subjects s
    left join explicit_links e using (failure_id)
    left join owner_candidates o using (failure_id)
),

rollbacks as (
    select
        'rollback:' || r.deployment_id as failure_id,
        'rollback' as kind,
        r.previous_deployed_at as started_at,
        d.deployed_at as resolved_at,
        r.previous_deployment_id as owner_deployment_id,
        r.previous_deployment_id as deployment_id,
        'rolled_back' as link_rule,
        'unassigned' as named_component,
        d.source_event_id
    from staging.stg_deployment_code r
    join deployments d using (deployment_id)
    where r.is_rollback
      and r.previous_deployment_id in (select deployment_id from deployments)
),

failures as (
    select failure_id, kind, started_at, resolved_at, severity, owner_deployment_id,
        deployment_id, link_rule, link_reference, subject_environment, named_component,
        source_event_id
    from linked_subjects
    union all by name
    select failure_id, kind, started_at, resolved_at, null as severity, owner_deployment_id,
        deployment_id, link_rule, null as link_reference, null as subject_environment,
        named_component, source_event_id
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
        f.link_rule,
        f.link_reference,
        f.severity,
        coalesce(o.component_name, f.named_component) as component_name,
        coalesce(o.environment, f.subject_environment, 'unassigned') as environment,
        coalesce(o.ownership_ba, 'unassigned') as ownership_ba,
        coalesce(o.ownership_pod, 'unassigned') as ownership_pod,
        coalesce(o.ownership_team, 'unassigned') as ownership_team,
        f.source_event_id
    from failures f
    left join deployments o on o.deployment_id = f.owner_deployment_id
    where cast(timezone('UTC', f.started_at) as date) between $start_day and $end_day
)

select * from final
