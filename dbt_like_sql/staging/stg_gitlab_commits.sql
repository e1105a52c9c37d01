-- One row per commit of every usable push to a project's default branch (every arrival:
-- duplicates are resolved in marts/fct_changes.sql). committed_at is the commit's own
-- `timestamp` (ISO 8601 with offset, read as an instant); pushed_at is the push's arrival.
with default_branch_pushes as (
    select * from staging.stg_gitlab_pushes
    where problem is null and is_default_branch
),

final as (
    select
        p.project_id,
        c.value ->> 'id' as commit_sha,
        cast(c.value ->> 'timestamp' as timestamptz) as committed_at,
        p.pushed_at,
        p.source_event_id,
        p.source_object,
        p.landed_at,
        p.delivered_at
    from default_branch_pushes p, json_each(p.detail, '$.commits') c
)

select * from final
