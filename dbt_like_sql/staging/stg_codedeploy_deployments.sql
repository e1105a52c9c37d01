-- ECS blue/green deployments through CodeDeploy: a SUCCESS of a deployment group whose
-- compute platform is ECS is a deployment of each ECS service the group deploys
-- (raw.codedeploy_deployment_groups, from GetDeploymentGroup in the event's account and
-- region), under the service's long ARN: it joins the service's own history and takes the
-- service's tags (event_source 'ecs'). Id: codedeploy:<deploymentId> (with :<cluster>/<service>
-- when a group lists several services). Unusable SUCCESS events (problem) are kept here to
-- be dead-lettered; unresolved or non-ECS groups are near misses (stg_codedeploy_near_misses).
with successes as (
    select * from staging.stg_codedeploy_events
    where state = 'SUCCESS' or state is null
),

services as (
    select
        g.account,
        g.region,
        g.application,
        g.deployment_group,
        s.value ->> 'clusterName' as cluster_name,
        s.value ->> 'serviceName' as service_name,
        count(*) over (
            partition by g.account, g.region, g.application, g.deployment_group
        ) as group_services
    from raw.codedeploy_deployment_groups g, json_each(g.ecs_services) s
    where g.problem is null and g.compute_platform = 'ECS'
),

resolved as (
    select
        'codedeploy:' || e.codedeploy_deployment_id
        || case when s.group_services > 1 then ':' || s.cluster_name || '/' || s.service_name
                else '' end as deployment_id,
        e.changed_at as deployed_at,
        'arn:aws:ecs:' || e.region || ':' || e.account || ':service/' || s.cluster_name || '/'
        || s.service_name as resource_id,
        s.service_name as resource_name,
        e.source_event_id,
        e.source_object,
        e.landed_at,
        e.delivered_at,
        e.problem,
        e.detail
    from successes e
    join services s using (account, region, application, deployment_group)
    where e.problem is null
),

unusable as (
    select
        'codedeploy:' || coalesce(codedeploy_deployment_id, '') as deployment_id,
        changed_at as deployed_at,
        '' as resource_id,
        '' as resource_name,
        source_event_id,
        source_object,
        landed_at,
        delivered_at,
        problem,
        detail
    from successes
    where problem is not null
),

final as (
    select
        deployment_id,
        deployed_at,
        'ecs' as event_source,
        'ecs_service' as component_type,
        resource_id,
        resource_name,
        null::json as labels,
        source_event_id,
        source_object,
        landed_at,
        delivered_at,
        problem,
        detail
    from (select * from resolved union all select * from unusable)
)

select * from final
