-- Every "CodeDeploy Deployment State-change Notification" arrival (source aws.codedeploy),
-- read once. Shape (AWS docs, CodeDeploy user guide "Monitoring deployments with Amazon
-- EventBridge"): detail {application, deploymentGroup, deploymentId, state, region,
-- instanceGroupId}. The detail carries no time: the envelope `time` is when the state
-- changed. The account is the envelope's; the region detail.region (else the envelope's).
with events as (
    select
        *,
        try_cast(envelope_time as timestamptz) as changed_at
    from raw.candidate_events
    where source = 'aws.codedeploy'
      and detail_type = 'CodeDeploy Deployment State-change Notification'
),

final as (
    select
        detail ->> 'state' as state,
        detail ->> 'deploymentId' as codedeploy_deployment_id,
        account,
        coalesce(detail ->> 'region', region) as region,
        detail ->> 'application' as application,
        detail ->> 'deploymentGroup' as deployment_group,
        'arn:aws:codedeploy:' || coalesce(detail ->> 'region', region) || ':' || account
            || ':deploymentgroup:' || (detail ->> 'application') || '/'
            || (detail ->> 'deploymentGroup') as deployment_group_arn,
        changed_at,
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(case
            when detail ->> 'state' is null then 'missing detail.state'
            when detail ->> 'deploymentId' is null then 'missing detail.deploymentId'
            when detail ->> 'application' is null then 'missing detail.application'
            when detail ->> 'deploymentGroup' is null then 'missing detail.deploymentGroup'
            when account is null then 'missing account (the envelope''s)'
            when coalesce(detail ->> 'region', region) is null then 'missing detail.region'
            when changed_at is null then 'missing or unreadable time (the envelope''s)'
        end, ops.change_time_problem(changed_at, delivered_at)) as problem,
        detail
    from events
)

select * from final
