-- One row per successful deployment whose change time falls in [$start_day, $end_day].
-- Duplicates (the same event delivered twice, the exporter re-sending) collapse to the
-- first arrival: the earliest delivered (Firehose's time), then the object key, so the
-- trace is the same whichever run landed which copy first. ECS counts rolling deployments
-- and CodeDeploy blue/green ones alike. Ownership: Lambda and ECS take the AWS tags of the
-- snapshot in force on the deployment's day (the latest snapshot on or before it, else the
-- first one taken; a short ECS ARN by its service's long ARN);
-- EKS takes the labels and annotations of the involved object carried by the event (same
-- keys and aliases; an annotation wins over a label, as values such as group/repo can only be
-- annotations). A custom deployment takes the component, environment and tags its event
-- carries and, for the keys those lack, the snapshot's tags of its `resource` ARN. Missing
-- values are 'unassigned'.
with deployment_events as (
    select * from staging.stg_deployment_events
    where problem is null
),

first_arrivals as (
    select * from deployment_events
    qualify row_number() over (
        partition by deployment_id
        order by delivered_at, source_object, source_event_id
    ) = 1
),

-- A short ECS service ARN takes the service's long ARN (stg_ecs_service_arns): one history.
in_window as (
    select f.* replace (coalesce(a.long_arn, f.resource_id) as resource_id)
    from first_arrivals f
    left join staging.stg_ecs_service_arns a
      on f.event_source = 'ecs' and a.short_arn = f.resource_id
    where f.day between $start_day and $end_day
),

snapshot_days as (
    select snapshot_day from ops.tag_snapshot_days
),

with_snapshot_day as (
    select
        d.deployment_id,
        coalesce(
            (select max(s.snapshot_day) from snapshot_days s where s.snapshot_day <= d.day),
            (select min(s.snapshot_day) from snapshot_days s)
        ) as snapshot_day
    from in_window d
    where d.event_source in ('lambda', 'ecs')
       or (d.event_source = 'custom' and starts_with(d.resource_id, 'arn:'))
),

aws_tags as (
    select w.deployment_id, t.tags
    from with_snapshot_day w
    join in_window d using (deployment_id)
    join raw.resource_tag_snapshots t
      on t.snapshot_day = w.snapshot_day and t.resource_arn = d.resource_id
),

event_metadata as (
    select deployment_id, annotations as tags, 0 as source_rank
    from in_window
    where event_source = 'eks' and json_type(annotations) = 'OBJECT'
    union all
    select deployment_id, labels as tags, 1 as source_rank
    from in_window
    where event_source in ('eks', 'custom') and json_type(labels) = 'OBJECT'
),

tag_pairs as (
    -- the event's own values (annotations 0, labels 1) win over its resource's AWS tags (2)
    select o.deployment_id, o.source_rank, kv.key as tag_key, kv.value ->> '$' as tag_value
    from (
        select deployment_id, tags, 2 as source_rank from aws_tags
        union all
        select deployment_id, tags, source_rank from event_metadata
    ) o,
        json_each(o.tags) kv
),

schema_values as (
    select
        p.deployment_id,
        a.canonical,
        arg_min(p.tag_value, (p.source_rank, a.priority)) as tag_value
    from tag_pairs p
    join ops.tag_key_aliases a on a.alias = p.tag_key
    where nullif(trim(p.tag_value), '') is not null
    group by all
),

ownership as (
    select
        deployment_id,
        max(tag_value) filter (where canonical = 'Ownership.BA') as ownership_ba,
        max(tag_value) filter (where canonical = 'Ownership.Pod') as ownership_pod,
        max(tag_value) filter (where canonical = 'Ownership.Team') as ownership_team,
        max(tag_value) filter (where canonical = 'Environment') as environment,
        max(tag_value) filter (where canonical = 'Component.Name') as component_name,
        max(tag_value) filter (where canonical = 'Compliance.Namespace') as compliance_namespace,
        max(tag_value) filter (where canonical = 'Git.Projectid') as git_project_id,
        max(tag_value) filter (where canonical = 'Git.Repository') as git_repository
    from schema_values
    group by deployment_id
),

final as (
    select
        d.deployment_id,
        d.deployed_at,
        d.day,
        d.event_source,
        d.component_type,
        coalesce(o.component_name, nullif(d.resource_name, ''), 'unassigned') as component_name,
        d.resource_id,
        coalesce(o.environment, 'unassigned') as environment,
        coalesce(o.compliance_namespace, 'unassigned') as compliance_namespace,
        coalesce(o.git_project_id, 'unassigned') as git_project_id,
        coalesce(o.git_repository, 'unassigned') as git_repository,
        coalesce(o.ownership_ba, 'unassigned') as ownership_ba,
        coalesce(o.ownership_pod, 'unassigned') as ownership_pod,
        coalesce(o.ownership_team, 'unassigned') as ownership_team,
        d.source_event_id,
        d.source_object,
        d.version
    from in_window d
    left join ownership o using (deployment_id)
)

select * from final
