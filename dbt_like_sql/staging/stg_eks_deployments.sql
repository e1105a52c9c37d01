-- EKS deployments, from kubernetes-event-exporter events (recognised by their detail, so
-- any source/detail-type the sink was configured with works): a ScalingReplicaSet event
-- that scales the previous replica set down to zero, in each wording Kubernetes has used:
--   "Scaled down replica set <rs> to 0", "... to 0 from <n>", "... from <n> to 0".
-- Time is the Kubernetes event's lastTimestamp (else eventTime), never the envelope's
-- send time. Identity is metadata.uid + count: the exporter may send one event twice.
with scale_downs as (
    select
        *,
        try_cast(detail ->> 'lastTimestamp' as timestamptz) as last_timestamp,
        try_cast(detail ->> 'eventTime' as timestamptz) as micro_event_time
    from raw.candidate_events
    where detail ->> 'reason' = 'ScalingReplicaSet'
      and json_exists(detail, '$.involvedObject')
      and regexp_matches(
          detail ->> 'message',
          '^Scaled down replica set \S+ (to 0( from \d+)?|from \d+ to 0)$'
      )
),

timed as (
    select
        *,
        -- an unset Kubernetes time may be rendered as Go's zero time by a details template
        coalesce(
            case when last_timestamp > timestamptz '1971-01-01' then last_timestamp end,
            case when micro_event_time > timestamptz '1971-01-01' then micro_event_time end
        ) as changed_at
    from scale_downs
),

final as (
    select
        'eks:' || (detail ->> '$.metadata.uid') || ':' || coalesce(detail ->> 'count', '1')
            as deployment_id,
        changed_at as deployed_at,
        'eks' as event_source,
        'k8s_deployment' as component_type,
        concat_ws(
            '/',
            detail ->> 'clusterName',
            coalesce(detail ->> '$.involvedObject.namespace', detail ->> '$.metadata.namespace'),
            detail ->> '$.involvedObject.name'
        ) as resource_id,
        coalesce(detail ->> '$.involvedObject.name', '') as resource_name,
        detail -> '$.involvedObject.labels' as labels,
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(
            case
                when detail ->> '$.metadata.uid' is null then 'missing detail.metadata.uid'
                when changed_at is null
                    then 'missing or unreadable detail.lastTimestamp and detail.eventTime'
                when resource_name = '' then 'missing detail.involvedObject.name'
            end,
            ops.change_time_problem(changed_at, delivered_at)
        ) as problem,
        detail
    from timed
)

select * from final
