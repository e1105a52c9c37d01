"""Near misses: events that carry a deployment signal's marks and are no deployment.

staging/stg_deployment_near_misses.sql names each one's kind. Known look-alikes (a failed
or dry-run Lambda call, an ECS deployment still in progress, a scale-up, ...) are counted
per kind in the fct_deployments metadata and the `dora4 run` summary; kinds named
`*_unknown_*` are signals no rule recognises, and a check (metrics/checks.py) warns about
them with examples, so that a new event shape is seen the day it appears, not lost.
"""

from __future__ import annotations

from datetime import date

import duckdb

UNRECOGNISED_MARK = "_unknown_"
EXAMPLES = 5


def is_unrecognised(kind: str) -> bool:
    return UNRECOGNISED_MARK in kind


def near_misses_by_kind(
    conn: duckdb.DuckDBPyConnection, first: date | None = None, last: date | None = None
) -> list[tuple[str, int]]:
    """(kind, near misses) for the days [first, last], or for every day without a range."""
    return conn.execute(
        "select near_miss_kind, count(*) from staging.stg_deployment_near_misses "
        "where $first is null or day between $first and $last "
        "group by 1 order by 2 desc, 1",
        {"first": first, "last": last},
    ).fetchall()


def unrecognised_examples(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Up to EXAMPLES of each unrecognised kind: where to look in the archive."""
    return conn.execute(
        "select near_miss_kind, deployment_id, changed_at, resource_id, source_object "
        "from staging.stg_deployment_near_misses where contains(near_miss_kind, $mark) "
        "qualify row_number() over (partition by near_miss_kind order by changed_at, "
        "source_object) <= $examples order by all",
        {"mark": UNRECOGNISED_MARK, "examples": EXAMPLES},
    ).fetchall()
