-- GitLab pushes, Opsgenie alerts, ECS circuit-breaker failures and custom incidents that lack the fields their
-- rule needs: dead-lettered at landing (landing/commit_batch.sql), never used.
with problems as (
    select source_object, problem, detail
    from staging.stg_gitlab_pushes where problem is not null
    union all
    select source_object, problem, detail
    from staging.stg_opsgenie_alerts where problem is not null
    union all
    select source_object, problem, detail
    from staging.stg_ecs_deployment_failures where problem is not null
    union all
    select source_object, problem, detail
    from staging.stg_custom_incidents where problem is not null
),

final as (
    select * from problems
)

select * from final
