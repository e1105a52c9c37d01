"""marts.fct_deployments: one row per successful deployment, by the day it happened."""

import dagster as dg

from dora4_pipeline import sql
from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.landing.tags import RESOURCE_TAG_SNAPSHOTS
from dora4_pipeline.markdown import table
from dora4_pipeline.partitions import BACKFILL_POLICY, days_of, late_deliveries
from dora4_pipeline.resources.lake import ParquetLakeResource
from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL, WarehouseResource

FCT_DEPLOYMENTS = dg.AssetKey(["marts", "fct_deployments"])


def build_deployments_asset(
    partitions_def: dg.PartitionsDefinition, lateness_days: int
) -> dg.AssetsDefinition:
    @dg.asset(
        key=FCT_DEPLOYMENTS,
        pool=WAREHOUSE_POOL,
        group_name="normalize",
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        deps=[
            dg.AssetDep(CANDIDATE_EVENTS, partition_mapping=late_deliveries(lateness_days)),
            RESOURCE_TAG_SNAPSHOTS,
        ],
        kinds={"duckdb"},
        description=(
            "One row per successful deployment (Lambda UpdateFunctionCode, ECS "
            "SERVICE_DEPLOYMENT_COMPLETED, EKS scale-down of the old replica set to 0), "
            "partitioned by the change's own UTC day, duplicates collapsed, with ownership. "
            "Also written as Parquet per day (DORA4_PARQUET_URI)."
        ),
    )
    def fct_deployments(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: ParquetLakeResource
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        with warehouse.connect() as conn:
            rows = sql.materialize_window(conn, "fct_deployments", days[0], days[-1])
            per_day = conn.execute(
                "select day, event_source, count(*) from marts.fct_deployments "
                "where day between ? and ? group by all order by all",
                [days[0], days[-1]],
            ).fetchall()
            parquet = lake.write_days(conn, "fct_deployments", days)
        context.log.info(f"{rows} deployments from {days[0]} to {days[-1]}; Parquet: {parquet}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "parquet": parquet,
                "deployments_by_day_and_source": dg.MetadataValue.md(
                    table(["day", "source", "deployments"], per_day)
                ),
            }
        )

    return fct_deployments
