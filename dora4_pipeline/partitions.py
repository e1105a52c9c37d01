"""The one partitioning: UTC days. A range of days runs as one run (single-run backfills)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

BACKFILL_POLICY = dg.BackfillPolicy.single_run()
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def daily_partitions(start: str) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start, timezone="UTC")


def days_of(window: dg.TimeWindow) -> list[date]:
    """The UTC days a materialized window covers (end is exclusive)."""
    first, last = window.start.date(), (window.end - timedelta(days=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def range_tags(first: date, last: date) -> dict[str, str]:
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}


def last_complete_day(now: datetime) -> date:
    return (now - timedelta(days=1)).date()


def late_deliveries(lateness_days: int) -> dg.TimeWindowPartitionMapping:
    """Day D's events may be delivered until D + lateness: a day's facts wait for the
    landings of those days (missing ones, e.g. today, are fine)."""
    return dg.TimeWindowPartitionMapping(
        start_offset=0, end_offset=lateness_days, allow_nonexistent_upstream_partitions=True
    )
