-- The warehouse's durable tables. Idempotent: run on every connection that writes.
-- Views (staging) and marts are built from dbt_like_sql/staging and dbt_like_sql/marts.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists marts;
create schema if not exists ops;

-- One row per archive object landed: the manifest that makes landing idempotent.
create table if not exists ops.landed_objects (
    object_key      varchar primary key,  -- key relative to the archive prefix
    etag            varchar not null,     -- S3 ETag, or size-mtime for a local file
    size_bytes      bigint not null,
    delivery_hour   timestamptz not null, -- from the folder: when Firehose received it
    delivery_day    date not null,
    landed_at       timestamptz not null,
    parse_path      varchar not null,     -- duckdb (fast path) or python (damaged object)
    records         bigint not null,      -- every record read, noise included
    candidates      bigint not null,      -- records kept in raw.candidate_events
    dead_letters    bigint not null
);

-- raw.candidate_events: created (and migrated) from its schema file,
-- landing/candidate_events.yml (dora4_pipeline/schemas.py), which runs before this file.
-- An older warehouse's rows gain delivered_at there, empty: they take their object's
-- folder hour here.
update raw.candidate_events c set delivered_at = l.delivery_hour
from ops.landed_objects l
where c.delivered_at is null and l.object_key = c.object_key;

-- How far a change time may lie from its delivery (DORA4_MAX_CHANGE_AGE_DAYS before,
-- DORA4_MAX_CHANGE_AHEAD_DAYS after the delivery hour): one row, from the settings.
create table if not exists ops.change_time_window (
    max_age_days    integer not null,
    max_ahead_days  integer not null
);

-- Why a change time is implausible for its delivery, or NULL: a deployment dated 1970 or
-- 2100 can never fall in a day a run materializes, so it is a dead letter, not a count.
create or replace macro ops.change_time_problem(changed_at, delivered_at) as (
    select case
        when changed_at < delivered_at - to_days(max_age_days) then format(
            'change time {} is more than {} days before its delivery {} '
            || '(DORA4_MAX_CHANGE_AGE_DAYS)',
            strftime(changed_at, '%Y-%m-%dT%H:%M:%SZ'), max_age_days,
            strftime(delivered_at, '%Y-%m-%dT%H:%M:%SZ')
        )
        when changed_at >= delivered_at + interval 1 hour + to_days(max_ahead_days) then format(
            'change time {} is more than {} days after its delivery {} '
            || '(DORA4_MAX_CHANGE_AHEAD_DAYS)',
            strftime(changed_at, '%Y-%m-%dT%H:%M:%SZ'), max_ahead_days,
            strftime(delivered_at, '%Y-%m-%dT%H:%M:%SZ')
        )
    end
    from ops.change_time_window
);

-- Every record read, per object and kind: the audit trail for what was filtered as noise.
create table if not exists ops.object_event_counts (
    object_key      varchar not null,
    source          varchar,
    detail_type     varchar,
    events          bigint not null,
    candidates      bigint not null
);

-- What could not be used, with its reason; resolved when a fixed object is landed again.
create table if not exists ops.dead_letter_events (
    object_key      varchar not null,
    etag            varchar not null,
    record_index    bigint,               -- ordinal of the record in the object, when known
    position        bigint,               -- character offset of the record in the decompressed object
    reason          varchar not null,
    raw_excerpt     varchar,
    recorded_at     timestamptz not null,
    resolved_at     timestamptz           -- set when a newer version of the object was landed
);

-- What the Resource Groups Tagging API (or DORA4_TAGS_FILE) said on a day: ownership history.
create table if not exists raw.resource_tag_snapshots (
    snapshot_day    date not null,
    resource_arn    varchar not null,
    tags            json not null,        -- {"Ownership.BA": "...", ...} as the API returned them
    observed_at     timestamptz not null
);

-- One row per day a tag snapshot was taken (an empty snapshot is a snapshot too).
create table if not exists ops.tag_snapshot_days (
    snapshot_day    date primary key,
    observed_at     timestamptz not null,
    source          varchar not null,     -- tagging-api or the DORA4_TAGS_FILE path
    resources       bigint not null
);

-- Accounts whose tag role could not be assumed when a day's snapshot was taken
-- (DORA4_TAG_ROLE_ARN): their deployments stay unassigned; the day is taken again on the
-- next run, so fixing the role fills them in.
create table if not exists ops.tag_snapshot_unreachable (
    snapshot_day    date not null,
    account         varchar not null,
    role_arn        varchar not null,
    reason          varchar not null,     -- the STS or API error code and what to do
    observed_at     timestamptz not null
);

-- What CodeDeploy's GetDeploymentGroup said about each deployment group seen in a
-- CodeDeploy state-change event (or the tags file's entry): the ECS services a blue/green
-- deployment deploys. Kept once resolved; a group with a problem is asked again next run.
create table if not exists raw.codedeploy_deployment_groups (
    account          varchar not null,
    region           varchar not null,
    application      varchar not null,
    deployment_group varchar not null,
    compute_platform varchar,             -- ECS | Server | Lambda; NULL when unresolved
    ecs_services     json,                -- [{"clusterName", "serviceName"}]
    problem          varchar,             -- why it could not be resolved; NULL when resolved
    observed_at      timestamptz not null,
    primary key (account, region, application, deployment_group)
);

-- Tag keys (and their configured aliases) that make up the ownership schema.
create table if not exists ops.tag_key_aliases (
    alias           varchar primary key,
    canonical       varchar not null,
    priority        integer not null      -- 0 for the canonical key itself: it wins
);

-- marts.fct_deployments, marts.fct_changes, marts.fct_failures: created (and migrated)
-- from their schema files, marts/<table>.yml (dora4_pipeline/schemas.py).

-- marts.deployment_frequency_daily: created from its schema file,
-- marts/deployment_frequency_daily.yml (dora4_pipeline/schemas.py).

-- Every point dora4 sent to Datadog, dry-ran or failed to send: an append-only ledger.
-- The last `sent` row of a (metric, day, tags) is what Datadog holds; a rerun sends only
-- points whose value differs from it (or that never arrived).
create table if not exists ops.datadog_publications (
    metric          varchar not null,
    day             date not null,
    point_timestamp bigint not null,      -- the day's 00:00 UTC, epoch seconds
    tags            varchar not null,     -- the series' tags as sent, comma-separated
    value           double not null,
    change          varchar not null,     -- new | changed | retracted (group gone: 0)
    status          varchar not null,     -- sent | dry_run | failed
    error           varchar,              -- why a failed point failed (secrets removed)
    payload         integer not null,     -- which payload of the run carried it
    run_id          varchar,
    destination     varchar not null,     -- scheme://host, or 'dry-run'
    recorded_at     timestamptz not null
);

-- The UTC days each fact table was last materialized for: the period marts mark a week or
-- month partial when one of its days is missing here (or has not ended).
create table if not exists ops.materialized_days (
    table_name      varchar not null,
    day             date not null,
    materialized_at timestamptz not null,
    primary key (table_name, day)
);
