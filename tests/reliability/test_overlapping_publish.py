"""Overlapping runs leave Datadog with the mart's latest weekly value, whichever run
publishes last (issue 12, item 6).

Before, a publishing step read the mart, let go of the warehouse while it talked to
Datadog, then recorded what it sent. Two runs of one week overlapped: run A read the week
before run B's days landed, B recomputed the week and sent it, and A's older value reached
Datadog after B's, so Datadog kept the stale value (and the ledger said it was current).
Now a publishing step holds the warehouse from reading to recording: B waits, then reads
the mart and the ledger as A left them and sends the latest value last.

Run B is a real second process (as a second `dora4 run` on one warehouse is); Datadog is
the HTTP stand-in of tests/datadog_double.py. The deterministic interleaving: while A's
payload is in flight, the stand-in starts B and answers A only once B has found the
warehouse held (the fix) or has finished publishing (the old race).
"""

import subprocess
import sys
from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb
from datadog_double import DatadogDouble

from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.partitions import range_tags
from dora4_pipeline.publish.publications import dora_weekly
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.settings import Settings

API_KEY = "dd-api-key-overlap-7c1e"
DAY = date(2026, 3, 17)
WEEK = date(2026, 3, 16)  # its Monday
METRIC = "dora4.lead_time.median_seconds"
STALE, LATEST = 3600.0, 7200.0

RUN_B = """
import sys
import dagster as dg
import duckdb
from datetime import date
from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.partitions import range_tags
from dora4_pipeline.publish.publications import dora_weekly
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.settings import Settings

path, url, key, latest = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
try:
    duckdb.connect(path).close()
    print("OPEN", flush=True)
except duckdb.IOException:
    print("LOCKED", flush=True)
settings = Settings(warehouse=path, partitions_start="2026-01-01")
defs = build_definitions(settings)
warehouse = defs.resources["warehouse"]
with warehouse.connect() as conn:  # B's days landed: the week's value is now `latest`
    conn.execute("update marts.dora_weekly set lead_time_median_seconds = ?", [latest])
result = dg.materialize(
    [defs.get_assets_def(dora_weekly(settings.spec).key)],
    resources={"warehouse": warehouse, "datadog": DatadogResource(api_key=key, url=url)},
    tags=range_tags(date(2026, 3, 17), date(2026, 3, 17)),
    raise_on_error=False,
)
sys.exit(0 if result.success else 1)
"""


@dataclass
class OverlappingDatadog(DatadogDouble):
    """On the first payload (run A's), starts run B and holds A's answer as described."""

    warehouse: str = ""
    other_run: subprocess.Popen | None = None
    other_saw: str = ""

    def _answer(self, handler, path, body):
        if path == "/api/v2/series" and self.other_run is None:
            self.other_run = subprocess.Popen(
                [sys.executable, "-c", RUN_B, self.warehouse, self.url, API_KEY, str(LATEST)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self.other_saw = self.other_run.stdout.readline().strip()
            if self.other_saw != "LOCKED":
                self.other_run.wait(timeout=300)  # B publishes while A is in flight
        return super()._answer(handler, path, body)


def prepare(path: str, settings: Settings) -> None:
    """A warehouse whose week, as run A computed it, has the stale lead time."""
    with build_definitions(settings).resources["warehouse"].connect() as conn:
        row = {
            "period_start": WEEK,
            "grouping": "team",
            "ownership_ba": "payments",
            "ownership_pod": "billing",
            "ownership_team": "invoicing",
            "environment": "production",
            "lead_time_median_seconds": STALE,
            "spec_version": settings.spec.version,
        }
        zeros = ["deployments", "deployment_days", "deployment_rate_per_day"]
        zeros += ["deployment_days_per_week", "lead_time_samples", "lead_time_excluded"]
        zeros += ["failed_deployments", "restore_samples", "failed_deployment_recovery_samples"]
        bands = ["deployment_frequency_band", "lead_time_band", "change_failure_rate_band"]
        bands += ["time_to_restore_band"]
        row |= dict.fromkeys(zeros, 0) | dict.fromkeys(bands, "medium")
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        conn.execute(
            f"insert into marts.dora_weekly ({columns}) values ({marks})",  # noqa: S608
            list(row.values()),
        )


def test_the_later_publisher_waits_and_datadog_keeps_the_latest_weekly_value(tmp_path):
    path = str(tmp_path / "w.duckdb")
    settings = Settings(warehouse=path, partitions_start="2026-01-01")
    prepare(path, settings)
    double = OverlappingDatadog(api_key=API_KEY, warehouse=path)
    double.start()
    try:
        defs = build_definitions(settings)
        run_a = dg.materialize(
            [defs.get_assets_def(dora_weekly(settings.spec).key)],
            resources={
                "warehouse": defs.resources["warehouse"],
                "datadog": DatadogResource(api_key=API_KEY, url=double.url),
            },
            tags=range_tags(DAY, DAY),
            raise_on_error=False,
        )
        output, _ = double.other_run.communicate(timeout=300)
    finally:
        double.stop()
    assert run_a.success
    assert double.other_run.returncode == 0, output
    arrived = [
        point["value"]
        for series in double.accepted_series()
        if series["metric"] == METRIC
        for point in series["points"]
    ]
    assert arrived == [STALE, LATEST]  # the last value Datadog received is the latest
    assert double.other_saw == "LOCKED", "run B could write while run A was publishing"
    with duckdb.connect(path, read_only=True) as conn:
        (last_sent,) = conn.execute(
            "select max_by(value, recorded_at) from ops.datadog_publications "
            "where metric = ? and status = 'sent'",
            [METRIC],
        ).fetchone()
    assert last_sent == LATEST
