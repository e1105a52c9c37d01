-- GitLab push webhooks (detail-type 'Push Hook', detail = GitLab's push event body), every
-- arrival, duplicates included. A push counts only on the project's default branch:
-- ref = 'refs/heads/' || project.default_branch. Its arrival time is the envelope `time`
-- (when GitLab sent the webhook to the bus), the time a commit was pushed. A push missing
-- what the lead-time rule needs is dead-lettered whole (problem), never used in part.
with pushes as (
    select
        *,
        try_cast(envelope_time as timestamptz) as pushed_at,
        coalesce(detail ->> '$.project.id', detail ->> 'project_id') as project_id,
        detail ->> 'ref' as ref,
        detail ->> '$.project.default_branch' as default_branch,
        coalesce(json_array_length(detail, '$.commits'), 0) as commit_count,
        len(list_filter(
            json_extract_string(detail, '$.commits[*].timestamp'),
            lambda t: try_cast(t as timestamptz) is not null
        )) as readable_timestamps,
        len(json_extract_string(detail, '$.commits[*].id')) as commit_ids
    from raw.candidate_events
    where source_is(source, 'gitlab') and detail_type = 'Push Hook'
),

final as (
    select
        event_id as source_event_id,
        pushed_at,
        project_id,
        ref,
        default_branch,
        ref = 'refs/heads/' || default_branch as is_default_branch,
        commit_count,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(
            case
                when event_id is null then 'missing envelope id'
                when pushed_at is null then 'missing or unreadable envelope time'
                when project_id is null then 'missing detail.project.id and detail.project_id'
                when ref is null then 'missing detail.ref'
                when default_branch is null then 'missing detail.project.default_branch'
                when json_type(detail, '$.commits') is distinct from 'ARRAY'
                    then 'missing detail.commits'
                when commit_ids < commit_count then 'a commit without detail.commits[].id'
                when readable_timestamps < commit_count
                    then 'a commit without a readable detail.commits[].timestamp'
            end,
            ops.change_time_problem(pushed_at, delivered_at)
        ) as problem,
        detail
    from pushes
)

select * from final
