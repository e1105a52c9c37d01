-- Pre-2021 short ECS service ARNs (service/<name>, no cluster) and the long ARN
-- (service/<cluster>/<name>) of the same service: same account, region and service name.
-- One service under both forms is one component with one history: its deployments are
-- keyed and tagged by the long ARN. Long ARNs are known from the ECS events themselves,
-- the tag snapshots (short ARNs cannot carry tags) and the CodeDeploy deployment groups.
-- A name found in several
-- clusters of one account and region is ambiguous and not joined: its short-ARN
-- deployments keep the short ARN (its own tags if any, else unassigned).
with known_arns as (
    select resources ->> '$[0]' as arn
    from raw.candidate_events
    where source = 'aws.ecs' and detail_type = 'ECS Deployment State Change'
    union
    select resource_arn from raw.resource_tag_snapshots
),

long_arns as (
    select arn as long_arn
    from known_arns
    where regexp_matches(arn, '^arn:[^:]+:ecs:[^:]+:[^:]+:service/[^/]+/[^/]+$')
    union
    select
        'arn:aws:ecs:' || g.region || ':' || g.account || ':service/'
        || (s.value ->> 'clusterName') || '/' || (s.value ->> 'serviceName')
    from raw.codedeploy_deployment_groups g, json_each(g.ecs_services) s
    where g.problem is null
),

by_short as (
    select
        regexp_replace(long_arn, ':service/[^/]+/([^/]+)$', ':service/\1') as short_arn,
        min(long_arn) as long_arn,
        count(*) as clusters
    from long_arns
    group by 1
),

final as (
    select short_arn, long_arn from by_short where clusters = 1
)

select * from final
