-- marts.dora_weekly and marts.dora_monthly: created (and migrated) from their schema file,
-- periods/dora_periods.yml (dora4_pipeline/schemas.py).

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
