-- Every arrival of a deployment signal, all platforms, duplicates included; rows with a
-- problem are dead-lettered at landing and never counted.
with unioned as (
    select * from staging.stg_lambda_deployments
    union all by name
    select * from staging.stg_ecs_deployments
    union all by name
    select * from staging.stg_codedeploy_deployments
    union all by name
    select * from staging.stg_eks_deployments
    union all by name
    select * from staging.stg_custom_deployments
),

final as (
    select
        *,
        cast(timezone('UTC', deployed_at) as date) as day
    from unioned
)

select * from final
