-- The four keys per period, in the reporting timezone of the metric spec (dora4_pipeline/spec.py).
-- Weekly and monthly rows have the same columns; `spec_version` says how they were computed.
create table if not exists marts.dora_weekly (
    period_start                    date not null,   -- Monday (weekly) or the 1st (monthly), local
    grouping                        varchar not null, -- team | pod | ba | org: '*' in the columns below it
    ownership_ba                    varchar not null,
    ownership_pod                   varchar not null,
    ownership_team                  varchar not null,
    environment                     varchar not null,
    deployments                     bigint not null,
    deployment_days                 bigint not null, -- local days with ≥ 1 deployment
    deployment_rate_per_day         double not null, -- deployments ÷ calendar days of the period
    deployment_days_per_week        double,          -- median over the period's weeks that exist (r2)
    lead_time_median_seconds        double,
    lead_time_p90_seconds           double,
    lead_time_samples               bigint not null, -- commits with a positive lead time
    lead_time_excluded              bigint not null, -- commits with a lead time ≤ 0, left out
    failed_deployments              bigint not null,
    change_failure_rate             double,          -- NULL without changes (r2: failed attempts count)
    time_to_restore_median_seconds  double,
    restore_samples                 bigint not null, -- resolved failures started in the period
    failed_deployment_recovery_median_seconds double, -- rollbacks, circuit breakers, failed custom deployments
    failed_deployment_recovery_samples bigint not null,
    deployment_frequency_band       varchar not null,
    lead_time_band                  varchar not null,
    change_failure_rate_band        varchar not null,
    time_to_restore_band            varchar not null,
    spec_version                    varchar not null
);
create table if not exists marts.dora_monthly as select * from marts.dora_weekly limit 0;

-- Spec r2 (docs/metrics.md). Rows computed before keep NULL in the new columns: r1 never
-- computed them.
alter table marts.dora_weekly alter column deployment_days_per_week drop not null;
alter table marts.dora_monthly alter column deployment_days_per_week drop not null;
alter table marts.dora_weekly add column if not exists failed_attempts bigint;  -- ECS circuit breakers: failed changes that never became deployments
alter table marts.dora_monthly add column if not exists failed_attempts bigint;
alter table marts.dora_weekly add column if not exists partial boolean;  -- the period has not ended, or a day of it is not materialized
alter table marts.dora_monthly add column if not exists partial boolean;
alter table marts.dora_weekly add column if not exists days_covered bigint;  -- local days of the period ended and materialized
alter table marts.dora_monthly add column if not exists days_covered bigint;

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

-- The EventBridge `source`s of the events beside AWS's own (DORA4_GITLAB_SOURCE,
-- DORA4_OPSGENIE_SOURCE, DORA4_CUSTOM_SOURCE), kept in sync with the configuration at every
-- connection so that landing and the staging views read the same values. An entry may be a
-- prefix: Opsgenie's partner sources are `aws.partner/opsgenie.com/<org>/<integration>`.
drop table if exists ops.webhook_sources;  -- before 0.2: one source per kind
create table if not exists ops.event_sources (
    kind            varchar not null,  -- gitlab | opsgenie | custom
    source          varchar not null,
    is_prefix       boolean not null,
    primary key (kind, source, is_prefix)
);

-- Whether an event's `source` is one of the configured sources of a kind.
create or replace macro source_is(event_source, source_kind) as (
    event_source in (
        select source from ops.event_sources where kind = source_kind and not is_prefix
    )
    or coalesce(list_bool_or(list_transform(
        (select list(source) from ops.event_sources where kind = source_kind and is_prefix),
        lambda prefix: starts_with(event_source, prefix)
    )), false)
);
