"""`make demo`: the bundled archive, generated with known truth, run end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.normalize.near_misses import near_misses_by_kind
from dora4_pipeline.report import (
    SOURCES,
    deployments_by_day_and_source,
    frequency_report,
    keys_report,
    readable_warehouse,
    run_summary,
)
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.runner import run_range
from dora4_pipeline.settings import (
    DEFAULT_ARCHIVE,
    DEMO_DAYS,
    DEMO_DIR,
    DEMO_EVENTS_PER_DAY,
    DEMO_START,
    Settings,
    analyst_copy_path,
    report_path,
)


def load_generator() -> Callable[..., dict]:
    """`dora4_generator.generate`, imported only when an archive is to be generated: the
    generator ships beside the pipeline in the repository but not in the production image."""
    try:
        from dora4_generator import generate
    except ModuleNotFoundError as error:
        if error.name != "dora4_generator":
            raise
        raise ConfigError(
            "the generator (package dora4_generator) is not installed here: generate "
            "archives from a source checkout (pip install -e .), not the production image"
        ) from None
    return generate


def run_demo(settings: Settings) -> str:
    demo = Path(DEMO_DIR)
    if not (demo / "truth.json").is_file():
        generate = load_generator()
        print(f"generating the demo archive in {demo}/ …", flush=True)
        generate(demo, start=DEMO_START, days=DEMO_DAYS, events_per_day=DEMO_EVENTS_PER_DAY)
    settings = replace(settings, archive_uri=DEFAULT_ARCHIVE, tags_file=str(demo / "tags.json"))
    last = DEMO_START + timedelta(days=DEMO_DAYS - 1)
    run_range(settings, DEMO_START, last, DatadogResource())  # demo data never leaves: dry run
    return "\n\n".join(
        [
            run_summary(settings.warehouse, DEMO_START, last),
            frequency_report(readable_warehouse(settings.warehouse), DEMO_START, last, "pod"),
            keys_report(readable_warehouse(settings.warehouse), "week"),
            _against_truth(settings, last),
            _what_to_open(settings, last),
        ]
    )


def _what_to_open(settings: Settings, last: date) -> str:
    page = report_path(settings.warehouse)
    return "\n".join(
        [
            f"The demo covers {DEMO_START} … {last} (UTC). Open first:",
            f"  {page}  the four keys per organisation, BA, pod and team (offline page)",
            f"  {analyst_copy_path(settings.warehouse)}  every table, for DuckDB or your notebook",
            "  make dev  the same runs in the Dagster UI (http://127.0.0.1:3000, PORT=… to move)",
        ]
    )


def _against_truth(settings: Settings, last: date) -> str:
    """The generator knows what it wrote: say whether the pipeline found exactly that."""
    truth = json.loads((Path(DEMO_DIR) / "truth.json").read_text())
    with duckdb.connect(settings.warehouse, read_only=True) as conn:
        found = deployments_by_day_and_source(conn, DEMO_START, last)
        near_misses = dict(near_misses_by_kind(conn, DEMO_START, last))
    per_day = truth["deployments_per_day"]
    wrong = [
        str(day)
        for day, *per_source, _ in found
        if per_day.get(day.isoformat(), {}) != dict(zip(SOURCES, per_source, strict=True))
    ]
    if near_misses != truth.get("near_misses_by_kind", {}):
        wrong.append("the near misses by kind")
    if wrong:
        return f"MISMATCH with the generator's truth on {', '.join(wrong)}"
    return (
        f"Matches the generator's truth ({DEMO_DIR}/truth.json) on all {len(found)} days "
        "and on the near misses by kind."
    )
