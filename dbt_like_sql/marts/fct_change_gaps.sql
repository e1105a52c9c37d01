-- Per (production deployment, push) for the deployments whose day falls in
-- [$start_day, $end_day]: the commits of the push that could not be listed (hook cut at 20
-- commits, GitLab's API not set up or refusing). They were pushed with the push's `after`
-- commit, so they belong to each deployment that shipped it (marts.fct_changes).
with gaps as (
    select * from staging.stg_gitlab_push_gaps
    where commits_missing > 0
),

shipped as (
    select * from marts.fct_changes
    where day between $start_day and $end_day
),

final as (
    select
        c.deployment_id,
        c.deployed_at,
        c.day,
        g.source_event_id as push_event_id,
        g.project_id as git_project_id,
        g.before_sha,
        g.after_sha,
        cast(g.commits_missing as bigint) as commits_missing,  -- the table's type (a sum: hugeint)
        c.component_name,
        c.environment,
        c.ownership_ba,
        c.ownership_pod,
        c.ownership_team
    from gaps g
    join shipped c on c.git_project_id = g.project_id and c.commit_sha = g.after_sha
)

select * from final
