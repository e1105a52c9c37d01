-- One row per (production deployment, commit it shipped) for the deployments whose day
-- falls in [$start_day, $end_day]: the input of DORA lead time for changes.
-- Rules (README "Lead time and failures: sources and rules"):
-- * A commit counts from the first push that brought it to its project's default branch
--   (stg_gitlab_commits); a push delivered twice, or a commit pushed again, is one commit.
-- * A component's GitLab project is its Git.Projectid tag (fct_deployments.git_project_id).
--   A commit of project P pushed at t is shipped by the first successful production
--   deployment of each component of P with deployed_at >= t that ships code: the commits
--   pushed in (previous such deployment of the component, this one]; no lower bound for a
--   component's first one. Commits pushed after the last deployment wait for the next.
-- * A deployment of code deployed before (a rollback, a redeploy, a roll-forward; ECS's
--   circuit-breaker rollback) ships no commits (stg_deployment_code.ships_code, spec r2):
--   lead time credits each commit to the deployment that first shipped it.
-- * lead_time_seconds = deployed_at - committed_at in whole seconds (floor). It may be <= 0
--   (a committer's clock ahead, a rebased timestamp): the row is kept, metrics exclude it.
with commits as (
    select * from staging.stg_gitlab_commits
),

first_pushes as (
    select * from commits
    qualify row_number() over (
        partition by project_id, commit_sha
        order by pushed_at, delivered_at, source_object, source_event_id
    ) = 1
),

earlier_code as (
    select deployment_id from staging.stg_deployment_code where not ships_code
),

production_deployments as (
    select
        *,
        lag(deployed_at) over (
            partition by component_name, git_project_id order by deployed_at, deployment_id
        ) as previous_deployed_at
    from marts.fct_deployments
    where environment = 'production' and git_project_id <> 'unassigned'
      and deployment_id not in (select deployment_id from earlier_code)
),

in_window as (
    select * from production_deployments
    where day between $start_day and $end_day
),

shipped as (
    select
        d.*,
        c.commit_sha,
        c.committed_at,
        c.source_event_id as push_event_id
    from in_window d
    join first_pushes c
      on c.project_id = d.git_project_id
     and c.pushed_at <= d.deployed_at
     and (d.previous_deployed_at is null or c.pushed_at > d.previous_deployed_at)
),

final as (
    select
        deployment_id,
        commit_sha,
        committed_at,
        deployed_at,
        day,
        cast(floor((epoch_us(deployed_at) - epoch_us(committed_at)) / 1e6) as bigint)
            as lead_time_seconds,
        git_project_id,
        component_name,
        component_type,
        event_source,
        environment,
        ownership_ba,
        ownership_pod,
        ownership_team,
        push_event_id as source_event_id
    from shipped
)

select * from final
