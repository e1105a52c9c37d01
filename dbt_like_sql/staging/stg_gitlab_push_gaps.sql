-- Pushes to a default branch whose hook left commits out (more than 20), one row per push
-- (project, before, after: a push delivered twice is one), with how many of those commits
-- GitLab's API has given us (raw.gitlab_push_commits) and how many are still missing.
with default_branch_pushes as (
    select * from staging.stg_gitlab_pushes
    where problem is null and is_default_branch and commits_left_out > 0
),

first_arrivals as (
    select * from default_branch_pushes
    qualify row_number() over (
        partition by project_id, before_sha, after_sha
        order by pushed_at, delivered_at, source_object, source_event_id
    ) = 1
),

fetched as (
    select project_id, before_sha, after_sha, list(commit_sha) as shas
    from raw.gitlab_push_commits
    group by all
),

counted as (
    select
        p.*,
        len(list_filter(
            coalesce(f.shas, []),
            lambda sha: not list_contains(json_extract_string(p.hook, '$.commits[*].id'), sha)
        )) as commits_fetched
    from first_arrivals p
    left join fetched f using (project_id, before_sha, after_sha)
),

final as (
    select
        source_event_id,
        project_id,
        before_sha,
        after_sha,
        pushed_at,
        total_commits_count,
        commits_left_out,
        commits_fetched,
        greatest(commits_left_out - commits_fetched, 0) as commits_missing
    from counted
)

select * from final
