"""marts.fct_deployments: one row per successful deployment, by the day it happened."""

import dagster as dg

from dora4_pipeline import sql
from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.landing.tags import RESOURCE_TAG_SNAPSHOTS
from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.near_misses import near_misses_by_kind
from dora4_pipeline.partitions import days_of, late_deliveries
from dora4_pipeline.resources.lake import ParquetLakeResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import stamp_days, warehouse_asset

FCT_DEPLOYMENTS = dg.AssetKey(["marts", "fct_deployments"])


def build_deployments_asset(
    partitions_def: dg.PartitionsDefinition, lateness_days: int
) -> dg.AssetsDefinition:
    @warehouse_asset(
        partitions_def,
        key=FCT_DEPLOYMENTS,
        group_name="normalize",
        deps=[
            dg.AssetDep(CANDIDATE_EVENTS, partition_mapping=late_deliveries(lateness_days)),
            RESOURCE_TAG_SNAPSHOTS,
        ],
        kinds={"duckdb"},
        description=(
            "One row per successful deployment (Lambda UpdateFunctionCode, ECS "
            "SERVICE_DEPLOYMENT_COMPLETED, EKS scale-down of the old replica set to 0 beside "
            "another replica set's scale-up, a custom Deployment event), "
            "partitioned by the change's own UTC day, duplicates collapsed, with ownership. "
            "Near misses (signals that are no deployment) by kind in the metadata. "
            "Also written as Parquet per day (DORA4_PARQUET_URI)."
        ),
    )
    def fct_deployments(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: ParquetLakeResource
    ) -> dg.MaterializeResult:
        _, per_day, parquet = materialize_fact(
            context,
            warehouse,
            lake,
            "fct_deployments",
            "select day, event_source, count(*) from marts.fct_deployments "
            "where day between ? and ? group by all order by all",
        )
        days = days_of(context.partition_time_window)
        with warehouse.connect() as conn:
            near_misses = dict(near_misses_by_kind(conn, days[0], days[-1]))
        per_source: dict = {}
        for day, source, count in per_day:
            numbers = per_source.setdefault(day, {"dagster/row_count": 0})
            numbers["dagster/row_count"] += count
            numbers[f"deployments_{source}"] = count
        sources = {f"deployments_{source}": 0 for _, source, _ in per_day}
        stamp_days(context, days, per_source, {"dagster/row_count": 0, **sources})
        return dg.MaterializeResult(
            metadata={
                "parquet": parquet,
                # signals that are no deployment, per kind (docs/near-misses.md)
                "near_misses": sum(near_misses.values()),
                **{f"near_misses.{kind}": n for kind, n in near_misses.items()},
                "deployments_by_day_and_source": dg.MetadataValue.md(
                    table(["day", "source", "deployments"], per_day)
                ),
            }
        )

    return fct_deployments


def materialize_fact(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    lake: ParquetLakeResource,
    table: str,
    summary_sql: str,
) -> tuple[int, list[tuple], str]:
    """Replaces the run's days of marts.<table> and writes them as Parquet. Returns the row
    count, the rows of `summary_sql` (bound to the first and last day) and the Parquet
    location: what every fact asset reports."""
    days = days_of(context.partition_time_window)
    with warehouse.connect() as conn:
        rows = sql.materialize_window(conn, table, days[0], days[-1])
        summary = conn.execute(summary_sql, [days[0], days[-1]]).fetchall()
        parquet = lake.write_days(conn, table, days)
    context.log.info(f"{rows} rows of marts.{table} for {days[0]} … {days[-1]}; Parquet: {parquet}")
    return rows, summary, parquet
