"""marts.dora_weekly and marts.dora_monthly: the four keys per period, with their bands.

A partition run recomputes every period (in the reporting timezone) its UTC days touch,
from all deployments, changes and failures of those periods. The metric spec is recorded
in ops.metric_spec; a run with a different spec fails until asked to restate, so numbers
computed two ways never mix silently.
"""

import json
from dataclasses import asdict
from datetime import UTC, date, datetime

import dagster as dg
import duckdb

from dora4_pipeline import sql
from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.assets import FCT_DEPLOYMENTS
from dora4_pipeline.partitions import days_of
from dora4_pipeline.report import KEYS_HEADER, KEYS_WITH_BANDS
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.spec import MetricSpec
from dora4_pipeline.steps import warehouse_asset

GRAINS = {"week": "dora_weekly", "month": "dora_monthly"}
LEVELS = ("team", "pod", "ba", "org")  # each computed from the facts: medians do not add up
DORA_WEEKLY = dg.AssetKey(["marts", "dora_weekly"])


class PeriodConfig(dg.Config):
    """`restate_spec: true` adopts the configured metric spec and recomputes the run's
    periods with it (periods outside the run keep their `spec_version`)."""

    restate_spec: bool = False


def build_period_asset(
    partitions_def: dg.PartitionsDefinition, grain: str, spec: MetricSpec, deps: list
) -> dg.AssetsDefinition:
    name = GRAINS[grain]

    @warehouse_asset(
        partitions_def,
        key=dg.AssetKey(["marts", name]),
        group_name="metrics",
        deps=[FCT_DEPLOYMENTS, *deps],
        kinds={"duckdb"},
        description=(
            f"The four DORA keys per {grain} ({spec.timezone}) × environment, for each "
            "team, pod, BA and the organisation (`grouping`), with a band per key; "
            f"spec {spec.version} "
            "(README: 'Metric definitions')."
        ),
    )
    def dora_period(
        context: dg.AssetExecutionContext, config: PeriodConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        first, last = spec.periods_touching(days[0], days[-1], grain)
        with warehouse.connect() as conn:
            adopt_spec(conn, spec, restate=config.restate_spec)
            rows = materialize_periods(conn, grain, spec, first, last)
            summary = conn.execute(
                f"select period_start, ownership_ba, ownership_pod, deployments, "  # noqa: S608
                f"{KEYS_WITH_BANDS}, coalesce(partial, false) from marts.{name} "
                "where period_start between ? and ? "
                "and environment = 'production' and grouping in ('pod', 'org') "
                "order by period_start, grouping <> 'org', ownership_ba, ownership_pod",
                [first, last],
            ).fetchall()
        context.log.info(f"{rows} rows for {grain}s {first} … {last}, spec {spec.version}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "spec_version": spec.version,
                "production_keys_by_pod": dg.MetadataValue.md(
                    table(["period", "BA", "pod", "deploys", *KEYS_HEADER, "partial"], summary)
                ),
            }
        )

    return dora_period


def adopt_spec(conn: duckdb.DuckDBPyConnection, spec: MetricSpec, *, restate: bool) -> None:
    """Records the spec on first use; refuses a different one unless asked to restate."""
    row = conn.execute("select spec_version from ops.metric_spec").fetchone()
    if row and row[0] != spec.version and not restate:
        raise dg.Failure(
            f"the marts were computed with metric spec {row[0]}, this run has {spec.version} "
            "(DORA4_TIMEZONE / DORA4_BANDS, or a new revision of the definitions: "
            "docs/metrics.md). Restate on purpose: rerun the days with run config "
            "restate_spec: true (or `dora4 run --restate-spec`), or set the old values."
        )
    if row is None or row[0] != spec.version:
        with sql.transaction(conn):
            conn.execute("delete from ops.metric_spec")
            conn.execute(
                "insert into ops.metric_spec values (?, ?, now())",
                [spec.version, json.dumps(asdict(spec))],
            )


def materialize_periods(
    conn: duckdb.DuckDBPyConnection,
    grain: str,
    spec: MetricSpec,
    first: date,
    last: date,
    as_of: datetime | None = None,
) -> int:
    """Replaces marts.dora_<grain>ly for period starts first..last; rerunnable. A period
    not ended at `as_of` (now) is partial."""
    target = f"marts.{GRAINS[grain]}"
    params = {
        **spec.sql_params(),
        "grain": grain,
        "first_period": first,
        "last_period": last,
        "as_of": as_of or datetime.now(UTC),
    }
    window = {"first_period": first, "last_period": last}
    model = sql.load("periods/dora_periods")
    with sql.transaction(conn):
        conn.execute(
            f"delete from {target} where period_start between $first_period and $last_period",  # noqa: S608
            window,
        )
        for level in LEVELS:
            conn.execute(
                f"insert into {target} by name select * from ({model})",  # noqa: S608
                {**params, "level": level},
            )
    (rows,) = conn.execute(
        f"select count(*) from {target} where period_start between $first_period and $last_period",  # noqa: S608
        window,
    ).fetchone()
    return rows
