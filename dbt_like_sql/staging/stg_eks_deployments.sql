-- EKS deployments, from kubernetes-event-exporter events (staging.stg_eks_scaling_events):
-- a rollout's last step, an old replica set scaled down to 0. The same words are sent when
-- someone (kubectl scale --replicas=0, KEDA, an off-hours downscaler) scales the *current*
-- replica set to 0, and the exporter does not carry the revision annotation that would tell
-- them apart, so the events must: a scale-down to 0 is a rollout only when ANOTHER replica
-- set of the same object (Deployment, or Argo Rollouts' Rollout) was scaled up within an
-- hour before or after it, and that replica set was not itself scaled to 0 in between.
-- With Argo's wording, which carries revisions, the other set must have a higher revision
-- (an aborted canary scales the newer set to 0 and the stable one up: not a deployment).
-- Scale-downs to 0 that fail this are near misses (stg_eks_near_misses.sql).
-- Time is the Kubernetes event's lastTimestamp (else eventTime), never the envelope's send
-- time. Identity is metadata.uid + count: one occurrence, whether the exporter sends it
-- twice or an aggregated Event is updated (same uid, higher count).
with scaling as (
    select
        *,
        -- one arrival, for joining back after the pairing
        concat_ws('|', source_object, source_event_id, event_uid, occurrence) as arrival_key,
        -- hour buckets make the ±1 h pairing an equi-join (linear, not per-object quadratic)
        cast(floor(epoch(changed_at) / 3600) as bigint) as hour_bucket
    from staging.stg_eks_scaling_events
),

scale_downs as (
    select * from scaling
    where is_full_event and direction = 'down' and to_replicas = 0
),

replica_set_steps as (
    -- each replica set's scale-ups and scale-downs to 0, in time order
    select
        resource_id, owner_kind, replica_set, revision, changed_at, hour_bucket,
        direction = 'up' as is_up
    from scaling
    where is_full_event and changed_at is not null
      and (direction = 'up' or (direction = 'down' and to_replicas = 0))
),

scale_ups as (
    -- with when the same set was last scaled to 0 before, and next after
    select * from (
        select
            *,
            max(case when not is_up then changed_at end) over (
                partition by resource_id, owner_kind, replica_set order by changed_at
                rows between unbounded preceding and 1 preceding
            ) as zero_before,
            min(case when not is_up then changed_at end) over (
                partition by resource_id, owner_kind, replica_set order by changed_at
                rows between 1 following and unbounded following
            ) as zero_after
        from replica_set_steps
    )
    where is_up
),

live_partners as (
    -- another set scaled up within an hour, and not scaled to 0 between its scale-up and
    -- this scale-down (hour buckets make the ±1 h test an equi-join)
    select distinct d.arrival_key
    from scale_downs d,
        unnest([d.hour_bucket - 1, d.hour_bucket, d.hour_bucket + 1]) as b(bucket)
    join scale_ups u
      on u.resource_id = d.resource_id
     and u.owner_kind = d.owner_kind
     and u.hour_bucket = b.bucket
    where u.replica_set <> d.replica_set
      and (u.revision is null or d.revision is null or u.revision > d.revision)
      and u.changed_at between d.changed_at - interval 1 hour and d.changed_at + interval 1 hour
      and (
          (u.changed_at <= d.changed_at and (u.zero_after is null or u.zero_after >= d.changed_at))
          or (u.changed_at > d.changed_at and (u.zero_before is null or u.zero_before <= d.changed_at))
      )
),

rollouts as (
    select * from scale_downs
    where arrival_key in (select arrival_key from live_partners)
),

unusable as (
    -- scale-downs to 0 that cannot be judged: no time, no uid, no object name
    select * from scale_downs
    where changed_at is null or event_uid is null or owner_name = ''
),

templated as (
    -- the exporter's `details:` template: a scale-down to 0, or a message that cannot be read
    select * from scaling
    where not is_full_event and (direction is null or (direction = 'down' and to_replicas = 0))
),

signals as (
    select *, null as problem from rollouts
    where not (changed_at is null or event_uid is null or owner_name = '')
    union all
    select
        *,
        case
            when event_uid is null then 'missing detail.metadata.uid'
            when changed_at is null then 'missing or unreadable detail.lastTimestamp and detail.eventTime'
            else 'missing detail.involvedObject.name'
        end
    from unusable
    union all
    select
        *,
        'kubernetes-event-exporter sent a details: template (no uid, labels or times in RFC 3339): '
        || 'remove details: from the eventbridge receiver so the whole event is sent '
        || '(docs/sources-kubernetes.md, deploy/kubernetes/exporter-config.yaml)'
    from templated
),

final as (
    select
        case
            when event_uid is null then 'eks:envelope:' || coalesce(source_event_id, '')
            else 'eks:' || event_uid || ':' || occurrence
        end as deployment_id,
        changed_at as deployed_at,
        'eks' as event_source,
        'k8s_deployment' as component_type,
        resource_id,
        owner_name as resource_name,
        detail -> '$.involvedObject.labels' as labels,
        detail -> '$.involvedObject.annotations' as annotations,
        source_event_id,
        source_object,
        landed_at,
        delivered_at,
        coalesce(problem, ops.change_time_problem(changed_at, delivered_at)) as problem,
        detail
    from signals
)

select * from final
