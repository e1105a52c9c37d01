-- CodeDeploy SUCCESS events that look like deployments and are not counted, one row per
-- deployment (first arrival), by kind:
--   codedeploy_group_unresolved: the deployment group could not be resolved (not asked
--     yet, deleted, or the account's role refused: raw.codedeploy_deployment_groups.problem
--     says why); counted once it resolves, on the next run.
--   codedeploy_not_ecs: the group deploys EC2/on-premises servers or Lambda, not ECS.
--   codedeploy_no_ecs_service: an ECS group that lists no service.
with successes as (
    select * from staging.stg_codedeploy_events
    where state = 'SUCCESS' and problem is null
    qualify row_number() over (
        partition by codedeploy_deployment_id
        order by delivered_at, source_object, source_event_id
    ) = 1
),

classified as (
    select
        e.*,
        case
            when g.account is null or g.problem is not null then 'codedeploy_group_unresolved'
            when g.compute_platform is distinct from 'ECS' then 'codedeploy_not_ecs'
            when coalesce(json_array_length(g.ecs_services), 0) = 0
                then 'codedeploy_no_ecs_service'
        end as near_miss_kind
    from successes e
    left join raw.codedeploy_deployment_groups g
      using (account, region, application, deployment_group)
),

final as (
    select
        near_miss_kind,
        'codedeploy:' || codedeploy_deployment_id as deployment_id,
        changed_at,
        cast(timezone('UTC', changed_at) as date) as day,
        deployment_group_arn as resource_id,
        source_event_id,
        source_object
    from classified
    where near_miss_kind is not null
)

select * from final
