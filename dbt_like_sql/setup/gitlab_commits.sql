-- Commits of pushes of more than 20 commits, which GitLab's push hook leaves out (it lists
-- the newest 20 and the real number in total_commits_count). Fetched once per push from
-- GitLab's REST API (normalize/gitlab_commits.py) when GITLAB_URL and GITLAB_TOKEN are set;
-- a rerun reads them here and asks GitLab nothing again.
create table if not exists raw.gitlab_push_commits (
    project_id      varchar not null,
    before_sha      varchar not null,     -- the push's `before`: compare from
    after_sha       varchar not null,     -- the push's `after`: compare to
    commit_sha      varchar not null,
    committed_at    timestamptz not null, -- committed_date: what the hook calls `timestamp`
    fetched_at      timestamptz not null
);

-- One row per push asked about (or that cannot be asked about), with what came of it.
-- `fetched` and `refused` (GitLab answered 4xx: not found, forbidden) are final; `failed`
-- (timeouts, 5xx after retries) is asked again by the next run.
create table if not exists ops.gitlab_commit_fetches (
    project_id      varchar not null,
    before_sha      varchar not null,
    after_sha       varchar not null,
    status          varchar not null,     -- fetched | refused | failed | not_comparable
    commits         bigint not null,      -- commits GitLab returned
    error           varchar,
    fetched_at      timestamptz not null
);

-- marts.fct_change_gaps: created (and migrated) from its schema file,
-- marts/fct_change_gaps.yml (dora4_pipeline/schemas.py).

