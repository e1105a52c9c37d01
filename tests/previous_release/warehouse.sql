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

-- Events of the kinds the pipeline knows (deployment signals and their look-alikes).
-- Noise is only counted (ops.object_event_counts), never stored.
create table if not exists raw.candidate_events (
    object_key      varchar not null,
    event_id        varchar,              -- EventBridge envelope id
    source          varchar,
    detail_type     varchar,
    envelope_time   varchar,              -- bus time: kept for tracing, never the deployment time
    account         varchar,
    region          varchar,
    resources       json,
    detail          json,
    landed_at       timestamptz not null
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

-- Tag keys (and their configured aliases) that make up the ownership schema.
create table if not exists ops.tag_key_aliases (
    alias           varchar primary key,
    canonical       varchar not null,
    priority        integer not null      -- 0 for the canonical key itself: it wins
);

create table if not exists marts.fct_deployments (
    deployment_id        varchar not null,    -- unique: see the asset check
    deployed_at          timestamptz not null,
    day                  date not null,
    event_source         varchar not null,
    component_type       varchar not null,
    component_name       varchar not null,
    resource_id          varchar not null,
    environment          varchar not null,
    compliance_namespace varchar not null,
    git_project_id       varchar not null,
    git_repository       varchar not null,
    ownership_ba         varchar not null,
    ownership_pod        varchar not null,
    ownership_team       varchar not null,
    source_event_id      varchar,
    source_object        varchar not null
);

create table if not exists marts.deployment_frequency_daily (
    day                  date not null,
    ownership_ba         varchar not null,
    ownership_pod        varchar not null,
    ownership_team       varchar not null,
    environment          varchar not null,
    component_name       varchar not null,
    event_source         varchar not null,
    component_type       varchar not null,
    compliance_namespace varchar not null,
    git_project_id       varchar not null,
    git_repository       varchar not null,
    deployments          bigint not null
);

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

-- One row per (production deployment, commit it shipped): DORA lead time for changes.
create table if not exists marts.fct_changes (
    deployment_id        varchar not null,
    commit_sha           varchar not null,
    committed_at         timestamptz not null, -- the commit's own timestamp
    deployed_at          timestamptz not null,
    day                  date not null,        -- UTC day of deployed_at
    lead_time_seconds    bigint not null,      -- may be <= 0: kept, excluded by metrics
    git_project_id       varchar not null,
    component_name       varchar not null,
    component_type       varchar not null,
    event_source         varchar not null,
    environment          varchar not null,
    ownership_ba         varchar not null,
    ownership_pod        varchar not null,
    ownership_team       varchar not null,
    source_event_id      varchar               -- the GitLab push event's EventBridge id
);

-- One row per failure (incident, rollback, circuit_breaker): change failure rate, restore time.
create table if not exists marts.fct_failures (
    failure_id           varchar not null,
    kind                 varchar not null,     -- incident | rollback | circuit_breaker
    started_at           timestamptz not null,
    resolved_at          timestamptz,          -- NULL while open
    day                  date not null,        -- UTC day of started_at
    deployment_id        varchar,              -- the linked deployment, or NULL
    component_name       varchar not null,
    environment          varchar not null,
    ownership_ba         varchar not null,
    ownership_pod        varchar not null,
    ownership_team       varchar not null,
    source_event_id      varchar
);
