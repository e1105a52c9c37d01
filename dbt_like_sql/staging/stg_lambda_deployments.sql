-- Lambda code deployments: CloudTrail's UpdateFunctionCode20150331v2 that succeeded and
-- was no dry run (requestParameters.dryRun: true validates only; nothing is deployed).
-- Time is the call's own eventTime, identity its eventID. The function may be named by
-- plain name, full ARN or partial ARN, and the response ARN may carry a :version
-- qualifier: all resolve to the unqualified function ARN that carries the tags.
with calls as (
    select * from raw.candidate_events
    where source = 'aws.lambda'
      and detail ->> 'eventName' = 'UpdateFunctionCode20150331v2'
      and detail ->> 'errorCode' is null
      and coalesce(detail ->> '$.requestParameters.dryRun', 'false') <> 'true'
),

named as (
    select
        *,
        try_cast(detail ->> 'eventTime' as timestamptz) as event_time,
        regexp_extract(
            coalesce(
                detail ->> '$.responseElements.functionArn',
                detail ->> '$.requestParameters.functionName',
                ''
            ),
            '^(?:arn:(aws[a-z-]*):lambda:([a-z0-9-]+):)?(?:(\d{12}):)?(?:function:)?([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$',
            ['arn_partition', 'arn_region', 'arn_account', 'name']
        ) as fn
    from calls
),

final as (
    select
        'lambda:' || (detail ->> 'eventID') as deployment_id,
        event_time as deployed_at,
        'lambda' as event_source,
        'lambda_function' as component_type,
        format(
            'arn:{}:lambda:{}:{}:function:{}',
            coalesce(nullif(fn.arn_partition, ''), 'aws'),
            coalesce(nullif(fn.arn_region, ''), detail ->> 'awsRegion', region),
            coalesce(nullif(fn.arn_account, ''), detail ->> 'recipientAccountId', account),
            fn.name
        ) as resource_id,
        fn.name as resource_name,
        detail ->> '$.responseElements.codeSha256' as version,  -- the code's identity
        null::json as labels,
        event_id as source_event_id,
        object_key as source_object,
        landed_at,
        delivered_at,
        coalesce(
            case
                when detail ->> 'eventID' is null then 'missing detail.eventID'
                when event_time is null then 'missing or unreadable detail.eventTime'
                when fn.name = ''
                    then 'missing or unreadable detail.requestParameters.functionName'
            end,
            ops.change_time_problem(event_time, delivered_at)
        ) as problem,
        detail
    from named
)

select * from final
