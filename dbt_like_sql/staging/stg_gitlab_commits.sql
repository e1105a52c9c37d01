-- One row per commit of every usable push to a project's default branch (every arrival:
-- duplicates are resolved in marts/fct_changes.sql): the commits the hook lists, and those
-- it left out (a push of more than 20 commits) as GitLab's API returned them
-- (raw.gitlab_push_commits). committed_at is the commit's own `timestamp` (ISO 8601 with
-- offset, read as an instant; the API's committed_date is the same value); pushed_at is the
-- push's arrival.
with default_branch_pushes as (
    select * from staging.stg_gitlab_pushes
    where problem is null and is_default_branch
),

listed as (
    select
        p.project_id,
        c.value ->> 'id' as commit_sha,
        cast(c.value ->> 'timestamp' as timestamptz) as committed_at,
        p.pushed_at,
        p.source_event_id,
        p.source_object,
        p.landed_at,
        p.delivered_at,
        true as in_hook
    from default_branch_pushes p, json_each(p.hook, '$.commits') c
),

fetched as (
    select
        p.project_id,
        f.commit_sha,
        f.committed_at,
        p.pushed_at,
        p.source_event_id,
        p.source_object,
        p.landed_at,
        p.delivered_at,
        false as in_hook
    from default_branch_pushes p
    join raw.gitlab_push_commits f
      on f.project_id = p.project_id
     and f.before_sha = p.before_sha
     and f.after_sha = p.after_sha
    where p.commits_left_out > 0
),

final as (
    select * exclude (in_hook) from (select * from listed union all select * from fetched)
    qualify row_number() over (
        partition by source_event_id, source_object, commit_sha order by in_hook desc
    ) = 1
)

select * from final
