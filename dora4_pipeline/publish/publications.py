"""What dora4 publishes to Datadog, each as one asset (see publish/assets.py)."""

from datetime import date

import dagster as dg
import duckdb

from dora4_pipeline.metrics.assets import DEPLOYMENT_FREQUENCY_DAILY
from dora4_pipeline.metrics.periods import DORA_WEEKLY
from dora4_pipeline.publish.assets import PointRows, Publication
from dora4_pipeline.publish.tags import TAG_KEYS, group_tags, tag
from dora4_pipeline.spec import MetricSpec

DEPLOYMENTS_DAILY = "dora4.deployments.daily"
# marts.dora_weekly column → weekly gauge (docs/contract.md), at the week's Monday 00:00 UTC.
WEEKLY_METRICS = {
    "deployment_days_per_week": "dora4.deployment_days.per_week",
    "lead_time_median_seconds": "dora4.lead_time.median_seconds",
    "change_failure_rate": "dora4.change_failure_rate",
    "time_to_restore_median_seconds": "dora4.time_to_restore.median_seconds",
}
# Each key's band as a weekly gauge, so Datadog can colour tiles like the HTML report:
# 4 elite, 3 high, 2 medium, 1 low; a band without data sends nothing.
BAND_METRICS = {
    "deployment_frequency_band": "dora4.deployment_frequency.band",
    "lead_time_band": "dora4.lead_time.band",
    "change_failure_rate_band": "dora4.change_failure_rate.band",
    "time_to_restore_band": "dora4.time_to_restore.band",
}
BAND_SCORES = {"elite": 4, "high": 3, "medium": 2, "low": 1}
WEEKLY_GROUP = ("grouping", "ownership_ba", "ownership_pod", "ownership_team", "environment")


def daily_points(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> PointRows:
    """marts.deployment_frequency_daily as `dora4.deployments.daily`, the contract's tags."""
    columns = list(TAG_KEYS)
    rows = conn.execute(
        f"select day, {', '.join(columns)}, deployments "  # noqa: S608 (fixed column names)
        "from marts.deployment_frequency_daily where day between ? and ?",
        [first, last],
    ).fetchall()
    for day, *groups, deployments in rows:
        tags = group_tags(dict(zip(columns, groups, strict=True)))
        yield DEPLOYMENTS_DAILY, day, tags, deployments


def deployments_daily() -> Publication:
    return Publication(
        key=dg.AssetKey(["datadog", "deployments_daily"]),
        deps=[DEPLOYMENT_FREQUENCY_DAILY],
        metrics=(DEPLOYMENTS_DAILY,),
        description=(
            f"The gauge `{DEPLOYMENTS_DAILY}`: one point per UTC day per group of "
            "marts.deployment_frequency_daily, zero days included, sent only where Datadog "
            "does not hold the value yet. Ledger: ops.datadog_publications. Dry run "
            "without DD_API_KEY."
        ),
        days=lambda days: (days[0], days[-1]),
        read=daily_points,
        additive=True,
    )


def dora_weekly(spec: MetricSpec) -> Publication:
    """The four keys and their bands per week, for each team, pod, BA and the organisation
    (`dora4.grouping`), tagged with the spec version; weeks without samples send nothing."""
    columns = list(WEEKLY_METRICS)
    bands = list(BAND_METRICS)

    def read(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> PointRows:
        rows = conn.execute(
            f"select period_start, {', '.join(WEEKLY_GROUP)}, {', '.join(columns + bands)} "  # noqa: S608
            "from marts.dora_weekly where period_start between ? and ? and spec_version = ?",
            [first, last, spec.version],
        ).fetchall()
        for week, *values in rows:
            group = dict(zip(WEEKLY_GROUP, values[: len(WEEKLY_GROUP)], strict=True))
            tags = [
                tag("dora4.grouping", group.pop("grouping")),
                *(tag(TAG_KEYS[c], str(v)) for c, v in group.items() if v != "*"),
                tag("dora4.spec", spec.version),
            ]
            measures = values[len(WEEKLY_GROUP) :]
            for column, value in zip(columns, measures[: len(columns)], strict=True):
                if value is not None:
                    yield WEEKLY_METRICS[column], week, tags, value
            for column, band in zip(bands, measures[len(columns) :], strict=True):
                if band in BAND_SCORES:
                    yield BAND_METRICS[column], week, tags, BAND_SCORES[band]

    return Publication(
        key=dg.AssetKey(["datadog", "weekly_keys"]),  # not `dora_weekly`: one name, one node
        deps=[DORA_WEEKLY],
        metrics=(*WEEKLY_METRICS.values(), *BAND_METRICS.values()),
        description=(
            "Weekly gauges "
            + ", ".join(f"`{m}`" for m in (*WEEKLY_METRICS.values(), *BAND_METRICS.values()))
            + " (bands 4 elite … 1 low) per organisation, BA, pod, team and environment from "
            "marts.dora_weekly, at the week's Monday 00:00 UTC, tagged "
            "`dora4.spec:<version>`; weeks without samples send nothing. "
            "Ledger: ops.datadog_publications."
        ),
        days=lambda days: spec.periods_touching(days[0], days[-1], "week"),
        read=read,
        additive=False,
    )
