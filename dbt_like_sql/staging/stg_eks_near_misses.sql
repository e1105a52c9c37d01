-- Kubernetes events that look like a deployment signal and are not counted, one row per
-- occurrence (metadata.uid + count, first arrival), by kind:
--   eks_scale_to_zero:   "Scaled down replica set <rs> ... 0" with no other replica set of
--                        the object scaled up within an hour (kubectl scale --replicas=0,
--                        KEDA, an off-hours downscaler): see staging.stg_eks_deployments;
--   eks_unknown_wording: a ScalingReplicaSet message in none of the known wordings;
--   eks_scale_up, eks_scale_down_partial: a replica set scaled up, or down to replicas
--                        left (a rollout's steps, an autoscaler): never a deployment.
-- Template-shaped events (the exporter's `details:`) are dead letters, not near misses.
with scaling as (
    select * from staging.stg_eks_scaling_events
    where is_full_event and event_uid is not null
),

counted as (
    select deployment_id from staging.stg_eks_deployments
),

candidates as (
    select
        case
            when direction is null then 'eks_unknown_wording'
            when direction = 'down' and to_replicas = 0 then 'eks_scale_to_zero'
            when direction = 'up' then 'eks_scale_up'
            when direction = 'down' then 'eks_scale_down_partial'
        end as near_miss_kind,
        'eks:' || event_uid || ':' || occurrence as deployment_id,
        changed_at,
        resource_id,
        source_event_id,
        source_object,
        delivered_at
    from scaling
),

final as (
    select
        near_miss_kind,
        deployment_id,
        changed_at,
        cast(timezone('UTC', changed_at) as date) as day,
        resource_id,
        source_event_id,
        source_object
    from candidates
    where near_miss_kind is not null
      and deployment_id not in (select deployment_id from counted)
    qualify row_number() over (
        partition by deployment_id order by delivered_at, source_object, source_event_id
    ) = 1
)

select * from final
