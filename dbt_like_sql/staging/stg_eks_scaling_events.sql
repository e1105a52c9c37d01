-- Every ScalingReplicaSet event from kubernetes-event-exporter (recognised by its detail, so
-- any source/detail-type the sink was configured with works), its message read:
--   deployment controller: "Scaled up|down replica set <rs> to <n>", "... to <n> from <m>",
--                          "... from <m> to <n>" (three wordings over the years);
--   Argo Rollouts >= 1.0:  "Scaled up|down ReplicaSet <rs> (revision <r>) from <m> to <n>".
-- client-go's event correlator prefixes "(combined from similar events): " once an object
-- has had 10 similar events within 10 minutes, and later occurrences update that one Event
-- (same metadata.uid, count + 1): identity is uid + count, the prefix is stripped.
-- A detail without involvedObject is the exporter's `details:` template (a flat map of
-- strings, no uid, no labels): kept with is_template so it can be dead-lettered.
with scaling as (
    select
        *,
        json_exists(detail, '$.involvedObject') as is_full_event,
        regexp_replace(
            coalesce(detail ->> 'message', ''), '^\(combined from similar events\): ', ''
        ) as message_text,
        starts_with(coalesce(detail ->> 'message', ''), '(combined from similar events): ')
            as is_combined
    from raw.candidate_events
    where detail ->> 'reason' = 'ScalingReplicaSet'
),

parsed as (
    select
        *,
        regexp_extract(
            message_text,
            '^Scaled (up|down) (?:replica set|ReplicaSet) (\S+)(?: \(revision (\d+)\))? '
            || '(?:to (\d+)(?: from (\d+))?|from (\d+) to (\d+))$',
            ['direction', 'replica_set', 'revision', 'to_a', 'from_a', 'from_b', 'to_b']
        ) as m,
        try_cast(detail ->> 'lastTimestamp' as timestamptz) as last_timestamp,
        try_cast(detail ->> 'eventTime' as timestamptz) as micro_event_time
    from scaling
),

final as (
    select
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        delivered_at,
        detail,
        is_full_event,
        is_combined,
        message_text,
        nullif(m.direction, '') as direction,
        nullif(m.replica_set, '') as replica_set,
        try_cast(nullif(m.revision, '') as integer) as revision,
        try_cast(coalesce(nullif(m.from_a, ''), nullif(m.from_b, '')) as integer) as from_replicas,
        try_cast(coalesce(nullif(m.to_a, ''), nullif(m.to_b, '')) as integer) as to_replicas,
        -- an unset Kubernetes time may be rendered as Go's zero time
        coalesce(
            case when last_timestamp > timestamptz '1971-01-01' then last_timestamp end,
            case when micro_event_time > timestamptz '1971-01-01' then micro_event_time end
        ) as changed_at,
        detail ->> '$.metadata.uid' as event_uid,
        coalesce(try_cast(detail ->> 'count' as bigint), 1) as occurrence,
        coalesce(detail ->> '$.involvedObject.kind', '') as owner_kind,
        coalesce(detail ->> '$.involvedObject.name', '') as owner_name,
        concat_ws(
            '/',
            detail ->> 'clusterName',
            coalesce(detail ->> '$.involvedObject.namespace', detail ->> '$.metadata.namespace'),
            detail ->> '$.involvedObject.name'
        ) as resource_id
    from parsed
)

select * from final
