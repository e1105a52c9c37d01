-- For analysts: deployments per BA, pod and environment by day, ISO week (Monday start)
-- and calendar month. The rate is deployments ÷ calendar days of the period that have
-- been materialized (the daily mart is zero-filled, so empty days count).
with daily as (
    select day, ownership_ba, ownership_pod, environment, sum(deployments) as deployments
    from marts.deployment_frequency_daily
    group by all
),

grains as (
    select * from (values ('day'), ('week'), ('month')) as g(period)
),

final as (
    select
        grains.period,
        cast(date_trunc(grains.period, daily.day) as date) as period_start,
        daily.ownership_ba,
        daily.ownership_pod,
        daily.environment,
        sum(daily.deployments) as deployments,
        count(*) filter (where daily.deployments > 0) as deployment_days,
        count(*) as calendar_days,
        sum(daily.deployments) / count(*) as deployment_rate_per_day
    from daily
    cross join grains
    group by all
)

select * from final
