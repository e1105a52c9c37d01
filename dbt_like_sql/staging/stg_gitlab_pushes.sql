-- GitLab push webhooks, every arrival, duplicates included, from the configured GitLab
-- sources. GitLab has no EventBridge integration of its own, so a relay puts the hook on the
-- bus, and relays differ (docs/sources-gitlab-opsgenie.md):
-- * the hook body is `detail` itself, under any detail-type (`Push Hook` when the relay
--   copies GitLab's X-Gitlab-Event header, or one of its own);
-- * an API Gateway-style relay wraps the HTTP request: `detail.body` is the body as a JSON
--   string (base64 when `detail.isBase64Encoded`), beside `detail.headers` with
--   X-Gitlab-Event (x-gitlab-event from an HTTP API, which lowercases header names).
-- A push is recognised by its own content: `object_kind = 'push'` (or, without one, a
-- `Push Hook` detail-type or header). It counts only on the project's default branch:
-- ref = 'refs/heads/' || project.default_branch. Its arrival time is the envelope `time`
-- (when the relay sent it to the bus), the time a commit was pushed. GitLab lists only the
-- newest 20 commits; `total_commits_count` has the real number (commits_left_out: what the
-- GitLab API is asked for, normalize/gitlab_commits.py). A push missing what the lead-time
-- rule needs is dead-lettered whole (problem), never used in part.
with gitlab_events as (
    select
        *,
        json_type(detail, '$.body') as body_type,
        coalesce(
            detail -> '$.headers' ->> '$."X-Gitlab-Event"',
            detail -> '$.headers' ->> '$."x-gitlab-event"'
        ) as header_event
    from raw.candidate_events
    where source_is(source, 'gitlab')
),

unwrapped as (
    select
        *,
        case
            when json_exists(detail, '$.object_kind') then detail
            when body_type = 'VARCHAR' then try_cast(
                case
                    when detail ->> 'isBase64Encoded' = 'true'
                        then try(decode(from_base64(detail ->> 'body')))
                    else detail ->> 'body'
                end as json
            )
            when body_type = 'OBJECT' then detail -> '$.body'
            else detail
        end as hook,
        body_type is not null and not json_exists(detail, '$.object_kind') as wrapped
    from gitlab_events
),

pushes as (
    select
        *,
        try_cast(envelope_time as timestamptz) as pushed_at,
        coalesce(hook ->> '$.project.id', hook ->> 'project_id') as project_id,
        hook ->> 'ref' as ref,
        hook ->> '$.project.default_branch' as default_branch,
        hook ->> '$.project.web_url' as web_url,
        coalesce(hook ->> 'before', '') as before_sha,
        coalesce(hook ->> 'after', '') as after_sha,
        coalesce(json_array_length(hook, '$.commits'), 0) as commit_count,
        try_cast(hook ->> 'total_commits_count' as bigint) as total_commits_count,
        len(list_filter(
            json_extract_string(hook, '$.commits[*].timestamp'),
            lambda t: try_cast(t as timestamptz) is not null
        )) as readable_timestamps,
        len(json_extract_string(hook, '$.commits[*].id')) as commit_ids
    from unwrapped
    where hook ->> 'object_kind' = 'push'
       or (
           (hook is null or not json_exists(hook, '$.object_kind'))
           and 'Push Hook' in (detail_type, header_event)
       )
),

final as (
    select
        event_id as source_event_id,
        pushed_at,
        project_id,
        ref,
        default_branch,
        ref = 'refs/heads/' || default_branch as is_default_branch,
        web_url,
        before_sha,
        after_sha,
        commit_count,
        greatest(coalesce(total_commits_count, commit_count), commit_count) as total_commits_count,
        greatest(coalesce(total_commits_count, commit_count) - commit_count, 0) as commits_left_out,
        wrapped,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(
            case
                when event_id is null then 'missing envelope id'
                when hook is null then 'unreadable detail.body (a wrapped GitLab push hook)'
                when pushed_at is null then 'missing or unreadable envelope time'
                when project_id is null then 'missing detail.project.id and detail.project_id'
                when ref is null then 'missing detail.ref'
                when default_branch is null then 'missing detail.project.default_branch'
                when json_type(hook, '$.commits') is distinct from 'ARRAY'
                    then 'missing detail.commits'
                when commit_ids < commit_count then 'a commit without detail.commits[].id'
                when readable_timestamps < commit_count
                    then 'a commit without a readable detail.commits[].timestamp'
            end,
            ops.change_time_problem(pushed_at, delivered_at)
        ) as problem,
        detail,
        hook
    from pushes
)

select * from final
