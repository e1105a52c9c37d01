-- Deployments per UTC day and group, zero-filled: every group that has ever deployed
-- (in marts.fct_deployments) has a row for every day of [$start_day, $end_day], so
-- averages over a period never skip the empty days.
with days as (
    select cast(d as date) as day
    from generate_series(
        cast($start_day as timestamp), cast($end_day as timestamp), interval 1 day
    ) as t(d)
),

groups as (
    select distinct
        ownership_ba, ownership_pod, ownership_team, environment, component_name,
        event_source, component_type, compliance_namespace, git_project_id, git_repository
    from marts.fct_deployments
),

counts as (
    select
        day,
        ownership_ba, ownership_pod, ownership_team, environment, component_name,
        event_source, component_type, compliance_namespace, git_project_id, git_repository,
        count(*) as deployments
    from marts.fct_deployments
    where day between $start_day and $end_day
    group by all
),

final as (
    select days.day, groups.*, coalesce(counts.deployments, 0) as deployments
    from days
    cross join groups
    left join counts using (
        day, ownership_ba, ownership_pod, ownership_team, environment, component_name,
        event_source, component_type, compliance_namespace, git_project_id, git_repository
    )
)

select * from final
