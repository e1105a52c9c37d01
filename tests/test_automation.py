"""The daily schedule and the archive sensor, evaluated with Dagster's testing helpers and
their run requests executed for real on a generated archive."""

import shutil
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest
from archive_helpers import lambda_deploy, write_object
from conftest import ARCHIVE_START

from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.automation import DAILY_JOB, SCHEDULE, SENSOR
from dora4_pipeline.partitions import RANGE_END_TAG, RANGE_START_TAG
from dora4_pipeline.settings import Settings


def tick(defs: dg.Definitions, at: datetime) -> list[dg.RunRequest] | str:
    """The schedule's tick at `at`: its run requests, or its skip message."""
    context = dg.build_schedule_context(
        scheduled_execution_time=at, repository_def=defs.get_repository_def()
    )
    result = defs.resolve_schedule_def(SCHEDULE).evaluate_tick(context)
    return result.run_requests or result.skip_message


def partition_keys(defs: dg.Definitions, request: dg.RunRequest) -> list[str]:
    partitions = defs.get_assets_def(dg.AssetKey(["raw", "candidate_events"])).partitions_def
    return partitions.get_partition_keys_in_range(
        dg.PartitionKeyRange(request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG])
    )


@pytest.mark.parametrize(
    "lateness_hours, at, keys",
    [
        (24, datetime(2026, 3, 20, 2, tzinfo=UTC), ["2026-03-18", "2026-03-19"]),
        (72, datetime(2026, 3, 20, 2, tzinfo=UTC), [f"2026-03-{d}" for d in (16, 17, 18, 19)]),
        (0, datetime(2026, 3, 20, 2, tzinfo=UTC), ["2026-03-19"]),
        (24, datetime(2026, 3, 16, 2, tzinfo=UTC), ["2026-03-15"]),  # clipped at the start
        (24, datetime(2026, 3, 1, 2, tzinfo=UTC), None),  # before the first partition
    ],
)
def test_a_schedule_tick_asks_for_yesterday_and_the_lateness_window(lateness_hours, at, keys):
    defs = build_definitions(Settings(partitions_start="2026-03-15", lateness_hours=lateness_hours))
    outcome = tick(defs, at)
    if keys is None:
        assert "before the first partition" in outcome
        return
    (request,) = outcome
    assert partition_keys(defs, request) == keys
    assert request.run_key == f"daily-{keys[-1]}"


def test_the_sensor_reruns_days_whose_delivery_days_got_new_objects(generated, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(generated / "archive", archive)
    settings = Settings(
        archive_uri=str(archive),
        tags_file=str(generated / "tags.json"),
        warehouse=str(tmp_path / "w.duckdb"),
        partitions_start=ARCHIVE_START.isoformat(),
        sensor_lookback_days=366,
    )
    defs = build_definitions(settings)
    job = defs.resolve_job_def(DAILY_JOB)

    def sense():
        with dg.instance_for_test() as instance:
            context = dg.build_sensor_context(instance=instance, resources=defs.resources)
            result = defs.resolve_sensor_def(SENSOR).evaluate_tick(context)
        return result.run_requests or result.skip_message

    def ledger_rows() -> list[tuple]:
        with duckdb.connect(settings.warehouse, read_only=True) as conn:
            return conn.execute(
                "select day, tags, change, value from ops.datadog_publications "
                "where metric = 'dora4.deployments.daily' order by recorded_at"
            ).fetchall()

    assert "busy with a run, or not created yet" in sense()
    with dg.instance_for_test() as instance:
        (scheduled,) = tick(defs, datetime(2026, 3, 18, 2, tzinfo=UTC))
        assert job.execute_in_process(instance=instance, tags=scheduled.tags).success
        published = ledger_rows()
        assert {row[0].isoformat() for row in published} == {"2026-03-16", "2026-03-17"}
        assert "no new objects" in sense()

        # A re-driven object lands in a published delivery day, one deployment of day 1 in it.
        late = lambda_deploy("redriven-1", datetime(2026, 3, 16, 23, 59, tzinfo=UTC))
        write_object(archive, datetime(2026, 3, 17, 9, tzinfo=UTC), [late], name="redriven")
        (request,) = sense()
        assert partition_keys(defs, request) == ["2026-03-16", "2026-03-17"]
        assert sense()[0].run_key == request.run_key, "the same objects, the same run"

        assert job.execute_in_process(instance=instance, tags=request.tags).success
        ((day, tags, change, value),) = ledger_rows()[len(published) :]
        assert (day.isoformat(), change) == ("2026-03-16", "changed")
        assert "dora4.component.name:invoice-renderer" in tags
        assert value == 1 + next(v for d, t, _, v in published if (d, t) == (day, tags))
        assert "no new objects" in sense()
