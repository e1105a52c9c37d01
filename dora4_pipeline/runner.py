"""`dora4 run`: materialize the whole graph for a range of days, outside the UI.

Landing runs over the range plus the lateness window (so day D sees what was delivered
late, on later days), then everything downstream over the range itself.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.errors import ConfigError, RunFailed
from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.metrics.periods import GRAINS
from dora4_pipeline.partitions import last_complete_day, range_tags
from dora4_pipeline.pool import PoolWatch, process_tags
from dora4_pipeline.preflight import check_locations
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.settings import Settings

_QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


__all__ = ["RunFailed", "check_range", "run_range"]  # RunFailed's home is errors.py


def check_range(settings: Settings, first: date, last: date, now: datetime) -> None:
    if first > last:
        raise ConfigError(f"--start {first} is after --end {last}")
    if first < date.fromisoformat(settings.partitions_start):
        raise ConfigError(
            f"--start {first} is before the first partition {settings.partitions_start}; "
            "set DORA4_PARTITIONS_START earlier"
        )
    latest = last_complete_day(now)
    if last > latest:
        raise ConfigError(f"--end {last} is not a complete UTC day yet; the latest is {latest}")


def run_range(
    settings: Settings,
    first: date,
    last: date,
    datadog: DatadogResource | None = None,
    *,
    restate_spec: bool = False,
) -> None:
    """Raises ConfigError before anything runs, RunFailed if a step fails. `restate_spec`
    recomputes the period marts with a changed metric spec (see metrics/periods.py)."""
    now = datetime.now(UTC)
    check_range(settings, first, last, now)
    check_locations(settings)
    defs = build_definitions(settings, datadog)
    defs.resources["archive"].open()  # bad configuration or an outage fails here, in a line
    defs.resources["tagging"].check()
    landing_last = min(last + timedelta(days=settings.lateness_days), last_complete_day(now))
    with _instance() as instance:
        _execute(defs, instance, dg.AssetSelection.assets(CANDIDATE_EVENTS), first, landing_last)
        downstream = dg.AssetSelection.all() - dg.AssetSelection.assets(CANDIDATE_EVENTS)
        restate = {
            "ops": {
                f"marts__{name}": {"config": {"restate_spec": True}} for name in GRAINS.values()
            }
        }
        _execute(defs, instance, downstream, first, last, restate if restate_spec else {})


def _execute(defs, instance, selection, first: date, last: date, config: dict | None = None):
    job = dg.define_asset_job("dora4_cli_run", selection=selection)
    resolved = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(job.name)
    run_id = str(uuid.uuid4())
    with PoolWatch(instance, run_id):  # says what a step waits on; frees dead runs' slots
        result = resolved.execute_in_process(
            instance=instance,
            run_id=run_id,
            tags={**range_tags(first, last), **process_tags()},
            run_config={**_QUIET_LOGS, **(config or {})},
            raise_on_error=False,
        )
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        detail = "; ".join(
            f"{e.step_key}: {_root_cause(e.step_failure_data.error)}" for e in failures
        )
        raise RunFailed(detail or "the run failed")


def _root_cause(error) -> str:
    """The innermost error's message: what went wrong, not where Dagster caught it."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[-1] if error.message.strip() else "unknown error"


def _instance() -> dg.DagsterInstance:
    """The user's instance when DAGSTER_HOME is set (runs show in the UI), else a throwaway."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()
