"""What the terminal shows after a run: deployments per day and source, and dead letters."""

from __future__ import annotations

from datetime import date

import duckdb

from dora4_pipeline.markdown import table

SOURCES = ("lambda", "ecs", "eks")


def deployments_by_day_and_source(
    conn: duckdb.DuckDBPyConnection, first: date, last: date
) -> list[tuple]:
    """Every day of the range, zero days included: (day, lambda, ecs, eks, total)."""
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


def run_summary(warehouse: str, first: date, last: date) -> str:
    with duckdb.connect(warehouse, read_only=True) as conn:
        per_day = deployments_by_day_and_source(conn, first, last)
        dead = open_dead_letters(conn)
        (records,) = conn.execute("select coalesce(sum(records), 0) from ops.landed_objects").fetchone()
    lines = [
        f"Deployments per day and source, {first} … {last} (UTC days):",
        table(["day", *SOURCES, "total"], per_day),
        "",
        f"{sum(r[-1] for r in per_day)} deployments; {records:,} records landed in all; "
        f"{sum(n for _, n in dead)} dead-lettered (ops.dead_letter_events):",
    ]
    lines += [f"  {count:>5} × {reason}" for reason, count in dead] or ["  none"]
    return "\n".join(lines)
