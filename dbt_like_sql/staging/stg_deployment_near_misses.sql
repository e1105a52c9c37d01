-- Near misses: events that carry a deployment signal's marks but are no deployment, one row
-- per would-be deployment (first arrival), by kind (docs/near-misses.md). Nothing that looks
-- like a signal disappears in silence: a signal is a deployment, a dead letter (its
-- `problem`), or a near miss here. Kinds named `*_unknown_*` are signals no rule recognises
-- (an event shape AWS or a tool added since): the `no_unrecognised_signals` check warns
-- about them with examples. The others are known look-alikes, counted per kind in the run's
-- metadata. Kubernetes' near misses are staging.stg_eks_near_misses' (read with the EKS
-- rule's own parsing of the wordings), CodeDeploy's staging.stg_codedeploy_near_misses'.
with lambda_calls as (
    select
        *,
        detail ->> 'eventName' as event_name,
        try_cast(detail ->> 'eventTime' as timestamptz) as changed_at
    from raw.candidate_events
    where source = 'aws.lambda' and detail ->> 'eventName' like 'UpdateFunctionCode%'
),

lambda_misses as (
    select
        case
            when detail ->> 'errorCode' is not null then 'lambda_failed'
            when event_name <> 'UpdateFunctionCode20150331v2' then 'lambda_unknown_event_name'
            when detail ->> '$.requestParameters.dryRun' = 'true' then 'lambda_dry_run'
        end as near_miss_kind,
        'lambda:' || (detail ->> 'eventID') as deployment_id,
        changed_at,
        coalesce(
            detail ->> '$.requestParameters.functionName', detail ->> '$.responseElements.functionArn'
        ) as resource_id,
        event_id as source_event_id,
        object_key as source_object,
        delivered_at
    from lambda_calls
),

ecs_misses as (
    select
        case
            when event_name = 'SERVICE_DEPLOYMENT_COMPLETED' then null
            when event_name = 'SERVICE_DEPLOYMENT_IN_PROGRESS' then 'ecs_in_progress'
            -- an unusable FAILED is a dead letter (stg_dora_key_problems), not a near miss
            when event_name = 'SERVICE_DEPLOYMENT_FAILED'
                then case when problem is null then 'ecs_failed' end
            else 'ecs_unknown_event_name'
        end as near_miss_kind,
        deployment_key as deployment_id,
        updated_at as changed_at,
        service_arn as resource_id,
        source_event_id,
        source_object,
        delivered_at
    from staging.stg_ecs_deployment_events
),

-- custom events: failed deployments (failures, not deployments) and detail-types no rule
-- reads (`Deployment` is read here, `Incident` by the failure rules)
custom_misses as (
    select
        'custom_failed' as near_miss_kind,
        failure_id as deployment_id,
        started_at as changed_at,
        coalesce(resource_arn, component_name) as resource_id,
        source_event_id,
        source_object,
        delivered_at
    from staging.stg_custom_deployment_failures
    union all
    select
        'custom_unknown_detail_type' as near_miss_kind,
        'custom:' || coalesce(detail ->> 'id', event_id) as deployment_id,
        try_cast(envelope_time as timestamptz) as changed_at,
        coalesce(detail ->> 'resource', detail ->> 'component') as resource_id,
        event_id as source_event_id,
        object_key as source_object,
        delivered_at
    from raw.candidate_events
    where source_is(source, 'custom')
      and detail_type is distinct from 'Deployment'
      and detail_type is distinct from 'Incident'
),

unioned as (
    select * from lambda_misses
    union all by name
    select * from ecs_misses
    union all by name
    select * from staging.stg_eks_near_misses
    union all by name
    select * from staging.stg_codedeploy_near_misses
    union all by name
    select * from custom_misses
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
    from unioned
    where near_miss_kind is not null
    qualify row_number() over (
        partition by near_miss_kind, coalesce(deployment_id, source_event_id)
        order by delivered_at nulls last, source_object, source_event_id
    ) = 1
)

select * from final
