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
    select * from staging.stg_eks_scaling_events
),

scale_downs as (
    select * from scaling
    where is_full_event and direction = 'down' and to_replicas = 0
),

scale_ups as (
    select resource_id, owner_kind, replica_set, revision, changed_at
    from scaling
    where is_full_event and direction = 'up' and changed_at is not null
),

rollouts as (
    select d.*
    from scale_downs d
    where exists (
        select 1
        from scale_ups u
        where u.resource_id = d.resource_id
          and u.owner_kind = d.owner_kind
          and u.replica_set <> d.replica_set
          and (u.revision is null or d.revision is null or u.revision > d.revision)
          and u.changed_at between d.changed_at - interval 1 hour and d.changed_at + interval 1 hour
          -- the other set is still live: not scaled to 0 between its scale-up and this
          and not exists (
              select 1
              from scale_downs z
              where z.resource_id = u.resource_id
                and z.owner_kind = u.owner_kind
                and z.replica_set = u.replica_set
                and z.changed_at > least(u.changed_at, d.changed_at)
                and z.changed_at < greatest(u.changed_at, d.changed_at)
          )
    )
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
        problem,
        detail
    from signals
)

select * from final
