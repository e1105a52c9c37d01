"""The daily job, its schedule, and the sensor for objects that arrive after publishing.

The schedule materializes yesterday and restates the lateness window before it, as one
run (events delivered late reach the days they belong to, and Datadog). The sensor
covers what the schedule cannot see: objects re-driven or re-uploaded into delivery days
already published. Both start stopped; switch them on in the UI (Automation).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb

from dora4_pipeline.events.firehose import delivery_hour
from dora4_pipeline.partitions import last_complete_day, range_tags
from dora4_pipeline.publish.publications import DEPLOYMENTS_DAILY
from dora4_pipeline.resources.archive import ArchiveResource
from dora4_pipeline.resources.warehouse import WarehouseResource

DAILY_JOB = "dora4_daily"
SCHEDULE = "dora4_daily_schedule"
SENSOR = "dora4_archive_sensor"
SENSOR_INTERVAL_SECONDS = 300  # listing a few days of the archive every five minutes


def build_daily_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.all(),
        description="Every asset and check, for one day or a range of days as one run.",
    )


def restated_days(yesterday: date, lateness_days: int, first_partition: date) -> tuple[date, date]:
    """Yesterday and the lateness window before it, never before the first partition."""
    return max(yesterday - timedelta(days=lateness_days), first_partition), yesterday


def build_daily_schedule(
    job: dg.UnresolvedAssetJobDefinition, cron: str, lateness_days: int, first_partition: date
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=SCHEDULE,
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"Materializes yesterday and restates the {lateness_days} day(s) before it "
            "(DORA4_LATENESS_HOURS), as one run."
        ),
    )
    def dora4_daily_schedule(context: dg.ScheduleEvaluationContext):
        yesterday = last_complete_day(context.scheduled_execution_time)
        if yesterday < first_partition:
            return dg.SkipReason(f"{yesterday} is before the first partition {first_partition}")
        first, last = restated_days(yesterday, lateness_days, first_partition)
        return dg.RunRequest(run_key=f"daily-{last}", tags=range_tags(first, last))

    return dora4_daily_schedule


def build_archive_sensor(
    job: dg.UnresolvedAssetJobDefinition,
    lateness_days: int,
    first_partition: date,
    lookback_days: int,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR,
        job=job,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Looks for new or re-uploaded archive objects in delivery days already published "
            f"(the last {lookback_days} days) and reruns the days they can change."
        ),
    )
    def dora4_archive_sensor(
        context: dg.SensorEvaluationContext,
        archive: ArchiveResource,
        warehouse: WarehouseResource,
    ):
        yesterday = last_complete_day(datetime.now(UTC))
        with warehouse.peek() as conn:
            if conn is None:
                return dg.SkipReason("the warehouse is busy with a run, or not created yet")
            try:
                published = _published_days(conn, yesterday - timedelta(days=lookback_days - 1))
            except duckdb.CatalogException:
                return dg.SkipReason("nothing published yet (no ops.datadog_publications)")
            if not published:
                return dg.SkipReason(f"nothing published in the last {lookback_days} days")
            watched = _days(published[0], published[-1])
            landed = _landed(conn, watched[0], watched[-1])
        source = archive.open()
        new = sorted(
            (obj.key, obj.etag)
            for day in watched
            for obj in source.list_day(day)
            if delivery_hour(obj.key) is not None and landed.get(obj.key) != obj.etag
        )
        if not new:
            return dg.SkipReason(f"no new objects in delivery days {watched[0]} … {watched[-1]}")
        delivered = sorted({delivery_hour(key).date() for key, _ in new})
        first = max(delivered[0] - timedelta(days=lateness_days), first_partition)
        last = delivered[-1]
        context.log.info(
            f"{len(new)} new objects delivered {delivered[0]} … {last}, e.g. {new[0][0]}: "
            f"rerunning {first} … {last}"
        )
        fingerprint = hashlib.sha256(repr(new).encode()).hexdigest()[:16]
        return dg.RunRequest(run_key=f"archive-{fingerprint}", tags=range_tags(first, last))

    return dora4_archive_sensor


def _published_days(conn, since: date) -> list[date]:
    rows = conn.execute(
        "select distinct day from ops.datadog_publications "
        "where metric = ? and status in ('sent', 'dry_run') and day >= ? order by day",
        [DEPLOYMENTS_DAILY, since],
    ).fetchall()
    return [day for (day,) in rows]


def _landed(conn, first: date, last: date) -> dict[str, str]:
    return dict(
        conn.execute(
            "select object_key, etag from ops.landed_objects where delivery_day between ? and ?",
            [first, last],
        ).fetchall()
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
