"""The commits a push hook left out (pushes of more than 20 commits), fetched once per push.

Which pushes are cut, and by how many commits, is SQL (staging/stg_gitlab_push_gaps.sql).
Here each such push not asked about yet is asked about once through GitLabResource, and
what GitLab says is kept: its commits in raw.gitlab_push_commits, the outcome in
ops.gitlab_commit_fetches. A rerun asks only about pushes it has never had an answer for
(`failed`, a timeout or 5xx, is asked again). Without GITLAB_URL/GITLAB_TOKEN nothing is
asked; the commits stay missing and are counted (marts.fct_change_gaps).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb

from dora4_pipeline import sql
from dora4_pipeline.resources.gitlab import GitLabRefused, GitLabResource, GitLabUnavailable

_NO_COMMIT = "0" * 40  # `before` of a push that created the branch: nothing to compare from


@dataclass
class FetchSummary:
    pushes_cut: int = 0  # pushes to fetch for, before this run asked
    fetched: int = 0
    refused: int = 0
    failed: int = 0
    not_comparable: int = 0
    commits: int = 0

    def as_metadata(self) -> dict[str, int]:
        return {f"gitlab_{k}": v for k, v in self.__dict__.items()}


def fetch_left_out_commits(
    conn: duckdb.DuckDBPyConnection, gitlab: GitLabResource, log: logging.Logger
) -> FetchSummary:
    todo = conn.execute(
        """
        select project_id, before_sha, after_sha, commits_left_out
        from staging.stg_gitlab_push_gaps g
        where commits_missing > 0 and not exists (
            select 1 from ops.gitlab_commit_fetches f
            where f.status <> 'failed' and f.project_id = g.project_id
              and f.before_sha = g.before_sha and f.after_sha = g.after_sha)
        order by pushed_at
        """
    ).fetchall()
    summary = FetchSummary(pushes_cut=len(todo))
    if not todo:
        return summary
    if not gitlab.configured:
        log.warning(
            f"{len(todo)} pushes listed only their newest 20 commits and GITLAB_URL/GITLAB_TOKEN "
            f"are not set: {sum(row[3] for row in todo)} commits have no lead time "
            "(counted as lead_time_commits_missing)"
        )
        return summary
    for project_id, before, after, _ in todo:
        status, commits, error = _ask(gitlab, project_id, before, after)
        setattr(summary, status, getattr(summary, status) + 1)
        summary.commits += len(commits)
        _record(conn, (project_id, before, after), status, commits, error)
        if error:
            log.warning(f"GitLab project {project_id} {before[:12]}..{after[:12]}: {error}")
    log.info(f"GitLab compare for {len(todo)} cut pushes: {summary.as_metadata()}")
    return summary


def _ask(gitlab: GitLabResource, project_id: str, before: str | None, after: str):
    if not before or before == _NO_COMMIT:
        return "not_comparable", [], "the push created the branch: no `before` to compare from"
    try:
        commits = gitlab.compare_commits(project_id, before, after)
    except GitLabRefused as error:
        return "refused", [], str(error)
    except GitLabUnavailable as error:
        return "failed", [], str(error)
    usable = [(c["id"], c["committed_date"]) for c in commits if _readable(c)]
    return "fetched", usable, None


def _readable(commit) -> bool:
    """A commit with an id and a committed_date that is a timestamp; others stay missing."""
    if not isinstance(commit, dict) or not commit.get("id"):
        return False
    try:
        return datetime.fromisoformat(str(commit.get("committed_date"))).tzinfo is not None
    except ValueError:
        return False


def _record(conn, push: tuple, status: str, commits: list, error: str | None) -> None:
    with sql.transaction(conn):
        conn.execute(
            "delete from raw.gitlab_push_commits "
            "where (project_id, before_sha, after_sha) = (?, ?, ?)",
            list(push),
        )
        conn.execute(
            "delete from ops.gitlab_commit_fetches "
            "where (project_id, before_sha, after_sha) = (?, ?, ?)",
            list(push),
        )
        if commits:
            conn.executemany(
                "insert into raw.gitlab_push_commits "
                "values (?, ?, ?, ?, cast(? as timestamptz), now())",
                [(*push, sha, committed) for sha, committed in commits],
            )
        conn.execute(
            "insert into ops.gitlab_commit_fetches values (?, ?, ?, ?, ?, ?, now())",
            [*push, status, len(commits), error],
        )
