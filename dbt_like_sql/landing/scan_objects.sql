-- One pass over a batch of archive objects (Firehose output: gzip or plain, records
-- concatenated or newline-delimited). Counts every record per object and kind, and keeps
-- only the candidate events: the deployment signals and their look-alikes, GitLab and
-- Opsgenie webhooks (lead time, failures; ECS FAILED events are kept as look-alikes). Noise is
-- counted here and never stored. The exact rules of what counts live in staging/.
-- A record larger than $max_record_bytes (DORA4_MAX_RECORD_BYTES) makes the scan fail, and
-- the object is read record by record instead (landing/ingest.py), where it is a dead letter.
with records as (
    select
        filename as path,
        "source" as source,
        "detail-type" as detail_type,
        id as event_id,
        "time" as envelope_time,
        account,
        region,
        resources,
        detail
    from read_json(
        $paths,
        format = 'unstructured',
        records = true,
        compression = $compression,
        maximum_object_size = $max_record_bytes,
        filename = true,
        columns = {
            'id': 'VARCHAR',
            'detail-type': 'VARCHAR',
            'source': 'VARCHAR',
            'time': 'VARCHAR',
            'account': 'VARCHAR',
            'region': 'VARCHAR',
            'resources': 'JSON',
            'detail': 'JSON'
        }
    )
),

classified as (
    select
        *,
        -- Most records are noise, so a detail is parsed only where it may hold a signal
        -- (CASE evaluates its THEN only for the rows that pass WHEN): where its text holds
        -- the marker, Lambda's only under its source. `detail` is DuckDB's own
        -- serialization (escapes undone), so an eventName starting 'UpdateFunctionCode' or
        -- a reason equal to 'ScalingReplicaSet' always shows in it; the marker test only
        -- skips records that cannot match (issue 16, proved equal to the plain predicates
        -- by tests/test_landing_prefilter.py).
        coalesce(
            case when source = 'aws.lambda' and contains(detail::varchar, 'UpdateFunctionCode')
                then detail ->> 'eventName' like 'UpdateFunctionCode%' end
            or (source = 'aws.ecs' and detail_type = 'ECS Deployment State Change')
            or (source = 'aws.codedeploy' and detail_type = 'CodeDeploy Deployment State-change Notification')
            -- Kubernetes: the whole event, or the flat map of an exporter `details:` template
            or case when contains(detail::varchar, 'ScalingReplicaSet') then detail ->> 'reason' = 'ScalingReplicaSet' end
            -- the other DORA keys: GitLab webhooks and Opsgenie alert webhooks, under their
            -- configured sources (ops.event_sources), and the custom events. A GitLab relay
            -- chooses its own detail-type: a hook is kept by its own content (`object_kind`),
            -- or whole when a relay wrapped it (`detail.body`, API Gateway style); staging
            -- unwraps it and decides (stg_gitlab_pushes.sql)
            -- (CASE, so that only the GitLab sources' details are parsed)
            or case when source_is(source, 'gitlab') then
                detail_type in ('Push Hook', 'Merge Request Hook', 'Pipeline Hook', 'Deployment Hook')
                or json_exists(detail, '$.object_kind')
                or json_exists(detail, '$.body')
            end
            or source_is(source, 'opsgenie')
            or source_is(source, 'custom'),
            false
        ) as is_candidate
    from records
),

final as (
    select
        path,
        source,
        detail_type,
        count(*) as events,
        count(*) filter (where is_candidate) as candidates,
        list({
            'event_id': event_id,
            'source': source,
            'detail_type': detail_type,
            'envelope_time': envelope_time,
            'account': account,
            'region': region,
            'resources': resources,
            'detail': detail
        }) filter (where is_candidate) as candidate_events
    from classified
    group by all
)

select * from final
