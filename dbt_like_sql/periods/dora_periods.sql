-- The four DORA keys per period ($grain: 'week' or 'month') × group × environment, for
-- periods $first_period … $last_period, in the reporting timezone $tz, zero-filled for
-- every group that has ever deployed. Groups are teams, pods, BAs or the organisation
-- ($level): a median cannot be summed up from the teams', so each level is computed from
-- the facts, with '*' for the columns below it. Thresholds come from the metric spec as parameters.
-- Spec r2: a period is `partial` unless every local day of it has ended ($as_of) and its UTC
-- days were materialized (ops.materialized_days); the month's deployment days per week is
-- the median over its weeks that exist (a day covered, or a deployment); a failed ECS
-- attempt (circuit breaker) is a failed change; a group without deployments has frequency
-- band 'no_data'.
with deployments as (
    select
        deployment_id,
        case when $level = 'org' then '*' else ownership_ba end as ownership_ba,
        case when $level in ('ba', 'org') then '*' else ownership_pod end as ownership_pod,
        case when $level = 'team' then ownership_team else '*' end as ownership_team,
        environment,
        cast(deployed_at at time zone $tz as date) as local_day
    from marts.fct_deployments
),
changes as (
    select
        case when $level = 'org' then '*' else ownership_ba end as ownership_ba,
        case when $level in ('ba', 'org') then '*' else ownership_pod end as ownership_pod,
        case when $level = 'team' then ownership_team else '*' end as ownership_team,
        environment, deployed_at, lead_time_seconds
    from marts.fct_changes
),
-- commits of pushes cut at 20 that no one could list (marts.fct_change_gaps): no lead time
change_gaps as (
    select
        case when $level = 'org' then '*' else ownership_ba end as ownership_ba,
        case when $level in ('ba', 'org') then '*' else ownership_pod end as ownership_pod,
        case when $level = 'team' then ownership_team else '*' end as ownership_team,
        environment, deployed_at, commits_missing
    from marts.fct_change_gaps
),
failures as (
    select
        case when $level = 'org' then '*' else ownership_ba end as ownership_ba,
        case when $level in ('ba', 'org') then '*' else ownership_pod end as ownership_pod,
        case when $level = 'team' then ownership_team else '*' end as ownership_team,
        environment, started_at, resolved_at, kind,
        kind in ('rollback', 'circuit_breaker', 'failed_deployment') as deployment_failure
    from marts.fct_failures
),
groups as (
    select distinct ownership_ba, ownership_pod, ownership_team, environment from deployments
),
periods as (
    select cast(p as date) as period_start,
        cast(p + case when $grain = 'week' then interval 7 day else interval 1 month end
             as date) as period_end            -- exclusive
    from generate_series(cast($first_period as timestamp), cast($last_period as timestamp),
        case when $grain = 'week' then interval 7 day else interval 1 month end) as t(p)
),
-- Every local day of the periods and the week after them: covered when it has ended and
-- every UTC day it overlaps was materialized.
local_days as (
    select cast(d as date) as local_day
    from generate_series(cast($first_period as timestamp),
        cast((select max(period_end) from periods) as timestamp) + interval 6 day,
        interval 1 day) as t(d)
),
local_day_bounds as (
    select local_day,
        timezone($tz, cast(local_day as timestamp)) as begins,
        timezone($tz, cast(local_day + 1 as timestamp)) as ends
    from local_days
),
coverage as (
    select b.local_day,
        b.ends <= $as_of and count(m.day) = date_diff('day',
            cast(timezone('UTC', b.begins) as date),
            cast(timezone('UTC', b.ends - interval 1 microsecond) as date)) + 1 as covered
    from local_day_bounds b
    left join ops.materialized_days m
        on m.table_name = 'fct_deployments'
        and m.day between cast(timezone('UTC', b.begins) as date)
                      and cast(timezone('UTC', b.ends - interval 1 microsecond) as date)
    group by b.local_day, b.begins, b.ends
),
period_coverage as (
    select periods.period_start, count(*) filter (where c.covered) as days_covered
    from periods
    join coverage c on c.local_day >= periods.period_start and c.local_day < periods.period_end
    group by all
),
-- The ISO weeks whose Monday falls in the period (one for a week, four or five for a
-- month) that exist: a day of it covered, or a deployment in it.
days_with_data as (
    select local_day from coverage where covered
    union
    select distinct local_day from deployments
),
period_weeks as (
    select distinct p.period_start, p.week
    from (
        select periods.period_start, cast(w as date) as week
        from periods, generate_series(cast(period_start as timestamp),
            cast(period_end as timestamp) - interval 1 day, interval 1 day) as t(w)
        where isodow(w) = 1
    ) p
    join days_with_data x on x.local_day >= p.week and x.local_day < p.week + 7
),
days_per_week as (
    select pw.period_start, pw.week,
        g.ownership_ba, g.ownership_pod, g.ownership_team, g.environment,
        count(distinct d.local_day) as days
    from period_weeks pw
    cross join groups g
    left join deployments d
        on d.local_day >= pw.week and d.local_day < pw.week + 7
        and (d.ownership_ba, d.ownership_pod, d.ownership_team, d.environment)
            = (g.ownership_ba, g.ownership_pod, g.ownership_team, g.environment)
    group by all
),
frequency as (
    select periods.period_start, g.ownership_ba, g.ownership_pod, g.ownership_team,
        g.environment,
        count(d.deployment_id) as deployments,
        count(distinct d.local_day) as deployment_days,
        any_value(period_end - periods.period_start) as calendar_days
    from periods
    cross join groups g
    left join deployments d
        on d.local_day >= periods.period_start and d.local_day < periods.period_end
        and (d.ownership_ba, d.ownership_pod, d.ownership_team, d.environment)
            = (g.ownership_ba, g.ownership_pod, g.ownership_team, g.environment)
    group by all
),
-- "Medium" deployment frequency: deployed at all in the trailing four weeks (weekly rows)
-- or in the month (monthly rows).
recent as (
    select periods.period_start, d.ownership_ba, d.ownership_pod, d.ownership_team,
        d.environment, count(*) as deployments
    from periods
    join deployments d
        on d.local_day < periods.period_end
        and d.local_day >= case when $grain = 'week' then periods.period_end - 28
                                else periods.period_start end
    group by all
),
lead_times as (
    select cast(date_trunc($grain, cast(deployed_at at time zone $tz as date)) as date)
            as period_start,
        ownership_ba, ownership_pod, ownership_team, environment,
        quantile_cont(lead_time_seconds, 0.5) filter (where lead_time_seconds > 0) as median,
        quantile_cont(lead_time_seconds, 0.9) filter (where lead_time_seconds > 0) as p90,
        count(*) filter (where lead_time_seconds > 0) as samples,
        count(*) filter (where lead_time_seconds <= 0) as excluded
    from changes
    group by all
),
commits_missing as (
    select cast(date_trunc($grain, cast(deployed_at at time zone $tz as date)) as date)
            as period_start,
        ownership_ba, ownership_pod, ownership_team, environment,
        sum(commits_missing) as missing
    from change_gaps
    group by all
),
failed as (
    select distinct deployment_id from marts.fct_failures where deployment_id is not null
),
-- ECS circuit breakers and failed custom deployments: the failed attempt never became a
-- deployment, but it is a change that required remediation (DORA 2023): one failed change,
-- in the numerator and the denominator of the change failure rate, in the period it failed.
failed_attempts as (
    select cast(date_trunc($grain, cast(started_at at time zone $tz as date)) as date)
            as period_start,
        ownership_ba, ownership_pod, ownership_team, environment,
        count(*) as failed_attempts
    from failures
    where kind in ('circuit_breaker', 'failed_deployment')
    group by all
),
change_failures as (
    select cast(date_trunc($grain, d.local_day) as date) as period_start,
        d.ownership_ba, d.ownership_pod, d.ownership_team, d.environment,
        count(*) as failed_deployments
    from deployments d
    join failed using (deployment_id)
    group by all
),
restores as (
    select cast(date_trunc($grain, cast(started_at at time zone $tz as date)) as date)
            as period_start,
        ownership_ba, ownership_pod, ownership_team, environment,
        quantile_cont(epoch(resolved_at) - epoch(started_at), 0.5) as median,
        count(*) as samples,
        -- the 2023 report's failed-deployment recovery time: failures of a deployment itself
        quantile_cont(epoch(resolved_at) - epoch(started_at), 0.5)
            filter (where deployment_failure) as deployment_median,
        count(*) filter (where deployment_failure) as deployment_samples
    from failures
    where resolved_at is not null
    group by all
),
joined as (
    select
        f.*,
        (select quantile_cont(w.days, 0.5) from days_per_week w
         where (w.period_start, w.ownership_ba, w.ownership_pod, w.ownership_team, w.environment)
             = (f.period_start, f.ownership_ba, f.ownership_pod, f.ownership_team, f.environment)
        ) as deployment_days_per_week,
        coalesce(r.deployments, 0) as recent_deployments,
        l.median as lead_time_median_seconds,
        l.p90 as lead_time_p90_seconds,
        coalesce(l.samples, 0) as lead_time_samples,
        coalesce(l.excluded, 0) as lead_time_excluded,
        cast(coalesce(m.missing, 0) as bigint) as lead_time_commits_missing,  -- a sum: hugeint
        coalesce(c.failed_deployments, 0) as failed_deployments,
        coalesce(a.failed_attempts, 0) as failed_attempts,
        coalesce(pc.days_covered, 0) as days_covered,
        t.median as time_to_restore_median_seconds,
        coalesce(t.samples, 0) as restore_samples,
        t.deployment_median as failed_deployment_recovery_median_seconds,
        coalesce(t.deployment_samples, 0) as failed_deployment_recovery_samples
    from frequency f
    left join recent r using (period_start, ownership_ba, ownership_pod, ownership_team, environment)
    left join lead_times l using (period_start, ownership_ba, ownership_pod, ownership_team, environment)
    left join commits_missing m using (period_start, ownership_ba, ownership_pod, ownership_team, environment)
    left join change_failures c using (period_start, ownership_ba, ownership_pod, ownership_team, environment)
    left join restores t using (period_start, ownership_ba, ownership_pod, ownership_team, environment)
    left join failed_attempts a using (period_start, ownership_ba, ownership_pod, ownership_team, environment)
    left join period_coverage pc using (period_start)
)
select
    period_start, $level as grouping, ownership_ba, ownership_pod, ownership_team, environment,
    deployments,
    deployment_days,
    deployments / calendar_days as deployment_rate_per_day,
    deployment_days_per_week,
    lead_time_median_seconds,
    lead_time_p90_seconds,
    lead_time_samples,
    lead_time_excluded,
    lead_time_commits_missing,
    failed_deployments,
    failed_attempts,
    case when deployments + failed_attempts > 0
         then (failed_deployments + failed_attempts) / (deployments + failed_attempts)
    end as change_failure_rate,
    time_to_restore_median_seconds,
    restore_samples,
    failed_deployment_recovery_median_seconds,
    failed_deployment_recovery_samples,
    case
        when deployments = 0 then 'no_data'
        when deployment_days_per_week >= $df_elite then 'elite'
        when deployment_days_per_week >= $df_high then 'high'
        when recent_deployments > 0 then 'medium'
        else 'low'
    end as deployment_frequency_band,
    case
        when lead_time_median_seconds is null then 'no_data'
        when lead_time_median_seconds < $lt_elite then 'elite'
        when lead_time_median_seconds < $lt_high then 'high'
        when lead_time_median_seconds < $lt_medium then 'medium'
        else 'low'
    end as lead_time_band,
    case
        when deployments + failed_attempts = 0 then 'no_data'
        when (failed_deployments + failed_attempts) / (deployments + failed_attempts)
            <= $cfr_elite then 'elite'
        when (failed_deployments + failed_attempts) / (deployments + failed_attempts)
            <= $cfr_high then 'high'
        when (failed_deployments + failed_attempts) / (deployments + failed_attempts)
            <= $cfr_medium then 'medium'
        else 'low'
    end as change_failure_rate_band,
    case
        when time_to_restore_median_seconds is null then 'no_data'
        when time_to_restore_median_seconds < $ttr_elite then 'elite'
        when time_to_restore_median_seconds < $ttr_high then 'high'
        when time_to_restore_median_seconds < $ttr_medium then 'medium'
        else 'low'
    end as time_to_restore_band,
    days_covered < calendar_days as partial,
    days_covered,
    $spec_version as spec_version
from joined
