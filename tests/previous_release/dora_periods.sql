-- The four keys per period, in the reporting timezone of the metric spec (dora4_pipeline/spec.py).
-- Weekly and monthly rows have the same columns; `spec_version` says how they were computed.
create table if not exists marts.dora_weekly (
    period_start                    date not null,   -- Monday (weekly) or the 1st (monthly), local
    grouping                        varchar not null, -- team | pod | ba: '*' in the columns below it
    ownership_ba                    varchar not null,
    ownership_pod                   varchar not null,
    ownership_team                  varchar not null,
    environment                     varchar not null,
    deployments                     bigint not null,
    deployment_days                 bigint not null, -- local days with ≥ 1 deployment
    deployment_rate_per_day         double not null, -- deployments ÷ calendar days of the period
    deployment_days_per_week        double not null, -- median over the period's weeks
    lead_time_median_seconds        double,
    lead_time_p90_seconds           double,
    lead_time_samples               bigint not null, -- commits with a positive lead time
    lead_time_excluded              bigint not null, -- commits with a lead time ≤ 0, left out
    failed_deployments              bigint not null,
    change_failure_rate             double,          -- NULL without deployments
    time_to_restore_median_seconds  double,
    restore_samples                 bigint not null, -- resolved failures started in the period
    failed_deployment_recovery_median_seconds double, -- rollbacks and circuit breakers only
    failed_deployment_recovery_samples bigint not null,
    deployment_frequency_band       varchar not null,
    lead_time_band                  varchar not null,
    change_failure_rate_band        varchar not null,
    time_to_restore_band            varchar not null,
    spec_version                    varchar not null
);
create table if not exists marts.dora_monthly as select * from marts.dora_weekly limit 0;

-- The spec the period marts were computed with: one row, replaced only by an explicit restatement.
create table if not exists ops.metric_spec (
    spec_version    varchar not null,
    spec            json not null,
    adopted_at      timestamptz not null
);

-- Each attempt to send a production deployment to Datadog's DORA Metrics API (optional).
create table if not exists ops.datadog_dora_deployments (
    deployment_id   varchar not null,
    dora_id         varchar not null,     -- the id Datadog knows it by
    status          varchar not null,     -- sent | dry_run | failed
    error           varchar,
    run_id          varchar,
    recorded_at     timestamptz not null
);

-- The EventBridge `source` of GitLab and Opsgenie webhooks (DORA4_GITLAB_SOURCE,
-- DORA4_OPSGENIE_SOURCE), kept in sync with the configuration at every connection so that
-- landing and the staging views read the same values.
create table if not exists ops.webhook_sources (
    kind            varchar primary key,  -- gitlab | opsgenie
    source          varchar not null
);
