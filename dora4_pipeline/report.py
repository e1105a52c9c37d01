"""What the terminal shows after a run: deployments per day and source, and dead letters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.near_misses import is_unrecognised, near_misses_by_kind
from dora4_pipeline.settings import analyst_copy_path

SOURCES = ("lambda", "ecs", "eks", "custom")


def deployments_by_day_and_source(
    conn: duckdb.DuckDBPyConnection, first: date, last: date
) -> list[tuple]:
    """Every day of the range, zero days included: (day, lambda, ecs, eks, custom, total)."""
    return conn.execute(
        """
        with days as (
            select cast(d as date) as day
            from generate_series(cast($first as timestamp), cast($last as timestamp),
                                 interval 1 day) as t(d)
        )
        select
            days.day,
            count(*) filter (where f.event_source = 'lambda') as lambda,
            count(*) filter (where f.event_source = 'ecs') as ecs,
            count(*) filter (where f.event_source = 'eks') as eks,
            count(*) filter (where f.event_source = 'custom') as custom,
            count(f.deployment_id) as total
        from days
        left join marts.fct_deployments f on f.day = days.day
        group by days.day
        order by days.day
        """,
        {"first": first, "last": last},
    ).fetchall()


def open_dead_letters(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "select reason, count(*) from ops.dead_letter_events where resolved_at is null "
        "group by reason order by 2 desc, 1"
    ).fetchall()


def publication_states(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> list[tuple]:
    """Each point's latest state in the ledger: (status, points, where they went)."""
    return conn.execute(
        """
        with latest as (
            select status, destination
            from ops.datadog_publications
            where day between ? and ?
            qualify row_number() over (
                partition by metric, day, tags order by recorded_at desc) = 1
        )
        select status, count(*), string_agg(distinct destination, ', ')
        from latest group by status order by status
        """,
        [first, last],
    ).fetchall()


def readable_warehouse(warehouse: str) -> str:
    """The analysts' copy when there is one (never locked by a run), else the warehouse."""
    copy = analyst_copy_path(warehouse)
    if copy.is_file():
        return str(copy)
    if Path(warehouse).is_file():
        return warehouse
    raise ConfigError(
        f"no warehouse at {warehouse}: run `dora4 run` first (or set DORA4_WAREHOUSE)"
    )


def run_summary(warehouse: str, first: date, last: date) -> str:
    with duckdb.connect(warehouse, read_only=True) as conn:
        per_day = deployments_by_day_and_source(conn, first, last)
        dead = open_dead_letters(conn)
        published = publication_states(conn, first, last)
        near_misses = near_misses_by_kind(conn, first, last)
        (records,) = conn.execute(
            "select coalesce(sum(records), 0) from ops.landed_objects"
        ).fetchone()
    lines = [
        f"Deployments per day and source, {first} … {last} (UTC days):",
        table(["day", *SOURCES, "total"], per_day),
        "",
        f"{sum(r[-1] for r in per_day)} deployments; {records:,} records landed in all; "
        f"{sum(n for _, n in dead)} dead-lettered (ops.dead_letter_events):",
    ]
    lines += [f"  {count:>5} × {reason}" for reason, count in dead] or ["  none"]
    lines += [
        "",
        f"{sum(n for _, n in near_misses)} near misses: signals that are no deployment, "
        "by kind (docs/near-misses.md):",
    ]
    flag = "  ← UNRECOGNISED: see the no_unrecognised_signals check"
    lines += [
        f"  {count:>5} × {kind}" + (flag if is_unrecognised(kind) else "")
        for kind, count in near_misses
    ] or ["  none"]
    lines += [
        "",
        "Datadog points for these days, by their latest state (ops.datadog_publications):",
    ]
    lines += [f"  {count:>5} × {status} ({where})" for status, count, where in published] or [
        "  none"
    ]
    if any(status == "dry_run" for status, _, _ in published):
        lines.append("  dry run: DD_API_KEY is not set, nothing was sent to Datadog")
    return "\n".join(lines)


# The four keys of a marts.dora_weekly/dora_monthly row as text, each with its band: what the
# terminal and the Dagster UI show.
KEYS_WITH_BANDS = """
    coalesce(round(deployment_days_per_week, 1) || '', '-')
        || ' (' || deployment_frequency_band || ')',
    coalesce(round(lead_time_median_seconds / 3600, 1) || ' h', '-')
        || ' (' || lead_time_band || ')',
    coalesce(round(100 * change_failure_rate, 1) || ' %', '-')
        || ' (' || change_failure_rate_band || ')',
    coalesce(round(time_to_restore_median_seconds / 3600, 1) || ' h', '-')
        || ' (' || time_to_restore_band || ')'
"""
KEYS_HEADER = ["deploy days/week", "lead time", "CFR", "restore"]

GROUPINGS = {
    "ba": ("ownership_ba",),
    "pod": ("ownership_ba", "ownership_pod"),
    "team": ("ownership_ba", "ownership_pod", "ownership_team"),
}


def frequency(conn: duckdb.DuckDBPyConnection, first: date, last: date, by: str) -> list[tuple]:
    """Per group and environment: deployments, days with one, and deployments per day."""
    columns = ", ".join(GROUPINGS[by])  # from the fixed table above, never from input
    return conn.execute(
        f"""
        with daily as (
            select day, {columns}, environment, sum(deployments) as deployments
            from marts.deployment_frequency_daily
            where day between $first and $last
            group by all
        )
        select
            {columns}, environment,
            sum(deployments) as deployments,
            count(*) filter (where deployments > 0) as deployment_days,
            round(sum(deployments) / count(distinct day), 2) as per_day
        from daily
        group by all
        order by deployments desc, {columns}, environment
        """,  # noqa: S608
        {"first": first, "last": last},
    ).fetchall()


def frequency_report(path: str, first: date, last: date, by: str) -> str:
    with duckdb.connect(path, read_only=True) as conn:
        rows = frequency(conn, first, last, by)
    days = (last - first).days + 1
    header = [
        *(c.removeprefix("ownership_") for c in GROUPINGS[by]),
        "environment",
        "deployments",
        "deployment days",
        "per day",
    ]
    return "\n".join(
        [
            f"Deployment frequency by {by}, {first} … {last} ({days} days, UTC):",
            table(header, rows) if rows else "(no deployments materialized in this range)",
        ]
    )


def keys_report(path: str, grain: str = "month") -> str:
    """The four keys and their bands per pod in production, for the latest period."""
    table_name = {"week": "dora_weekly", "month": "dora_monthly"}[grain]
    with duckdb.connect(path, read_only=True) as conn:
        rows = conn.execute(
            f"""
            select ownership_ba, ownership_pod, deployments, {KEYS_WITH_BANDS},
                period_start, coalesce(partial, false), spec_version
            from marts.{table_name}
            where grouping = 'pod' and environment = 'production'
              and period_start = (select max(period_start) from marts.{table_name})
            order by ownership_ba, ownership_pod
            """  # noqa: S608 (table name from the fixed mapping above)
        ).fetchall()
        (missing,) = conn.execute(
            f"select coalesce(sum(lead_time_commits_missing), 0) from marts.{table_name} "  # noqa: S608
            "where grouping = 'pod' and environment = 'production' "
            f"and period_start = (select max(period_start) from marts.{table_name})"
        ).fetchone()
    if not rows:
        return f"(no {grain}ly DORA rows materialized)"
    header = ["ba", "pod", "deployments", *KEYS_HEADER]
    period, partial, spec = rows[0][-3:]
    note = " PARTIAL: in progress or not every day materialized;" if partial else ""
    return "\n".join(
        [
            f"DORA keys by pod in production, {grain} of {period} "
            f"({note} spec {spec}; bands in brackets):".replace("( ", "("),
            table(header, [r[:-3] for r in rows]),
            *(
                [
                    f"warning: {missing} commits of pushes cut at 20 commits have no lead time "
                    "(GitLab's API not set up or refusing: GITLAB_URL, GITLAB_TOKEN)"
                ]
                if missing
                else []
            ),
        ]
    )
