"""marts.deployment_frequency_daily: deployments per day and group, zero days included."""

import dagster as dg

from dora4_pipeline import sql
from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.assets import FCT_DEPLOYMENTS
from dora4_pipeline.partitions import days_of
from dora4_pipeline.report_html import write_report
from dora4_pipeline.resources.lake import ParquetLakeResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.settings import report_path
from dora4_pipeline.steps import stamp_days, warehouse_asset

DEPLOYMENT_FREQUENCY_DAILY = dg.AssetKey(["marts", "deployment_frequency_daily"])


def build_frequency_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @warehouse_asset(
        partitions_def,
        key=DEPLOYMENT_FREQUENCY_DAILY,
        group_name="metrics",
        deps=[FCT_DEPLOYMENTS],
        kinds={"duckdb"},
        description=(
            "Deployments per UTC day × BA × pod × team × environment × component × source, "
            "zero-filled for every group that has deployed. Analysts: see the "
            "marts.deployment_frequency_by_pod view and the .analytics.duckdb copy "
            "(ops/analyst_copy)."
        ),
    )
    def deployment_frequency_daily(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: ParquetLakeResource
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        with warehouse.connect() as conn:
            rows = sql.materialize_window(conn, "deployment_frequency_daily", days[0], days[-1])
            by_pod = conn.execute(
                "select environment, ownership_ba, ownership_pod, sum(deployments) as deployments, "
                "round(sum(deployments) / count(distinct day), 2) as per_day "
                "from marts.deployment_frequency_daily where day between ? and ? "
                "group by all order by environment, deployments desc, ownership_ba, ownership_pod",
                [days[0], days[-1]],
            ).fetchall()
            per_day = conn.execute(
                "select day, count(*), sum(deployments) "
                "from marts.deployment_frequency_daily where day between ? and ? group by day",
                [days[0], days[-1]],
            ).fetchall()
            unassigned = dict(
                conn.execute(
                    "select day, round(100 * avg(case when ownership_ba = 'unassigned' or "
                    "ownership_pod = 'unassigned' then 1.0 else 0.0 end), 1) "
                    "from marts.fct_deployments where day between ? and ? group by day",
                    [days[0], days[-1]],
                ).fetchall()
            )
            parquet = lake.write_days(conn, "deployment_frequency_daily", days)
        context.log.info(f"{rows} group-days from {days[0]} to {days[-1]}")
        stamp_days(
            context,
            days,
            {
                day: {
                    "dagster/row_count": group_days,
                    "deployments": int(deployments),
                    "unassigned_percent": float(unassigned.get(day, 0.0)),
                }
                for day, group_days, deployments in per_day
            },
            {"dagster/row_count": 0, "deployments": 0, "unassigned_percent": 0.0},
        )
        return dg.MaterializeResult(
            metadata={
                "by_environment_ba_and_pod": dg.MetadataValue.md(
                    table(["environment", "BA", "pod", "deployments", "per day"], by_pod)
                ),
                "parquet": parquet,
            }
        )

    return deployment_frequency_daily


ANALYST_COPY = dg.AssetKey(["ops", "analyst_copy"])


def build_analyst_copy_asset(
    partitions_def: dg.PartitionsDefinition, marts: list[dg.AssetKey]
) -> dg.AssetsDefinition:
    """After every mart of the run: the copy analysts open, replaced atomically."""

    @warehouse_asset(
        partitions_def,
        key=ANALYST_COPY,
        group_name="metrics",
        deps=marts,
        kinds={"duckdb"},
        description=(
            "`dora4.analytics.duckdb` beside the warehouse: a copy taken after all marts, for "
            "analysts to keep open without ever blocking a run; and `dora4.report.html`, the "
            "four keys drawn from it (`dora4 report --html`)."
        ),
    )
    def analyst_copy(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        copy = warehouse.publish_analyst_copy()
        metadata = {"path": str(copy), "bytes": copy.stat().st_size}
        page = report_path(warehouse.path)
        try:
            drawn = write_report(str(copy), page, None)
        except Exception as error:  # a picture must never fail the numbers it draws
            context.log.warning(f"could not draw {page}: {error}")
            metadata["report_error"] = str(error)
        else:
            if drawn is not None:
                metadata["report"] = dg.MetadataValue.url(page.resolve().as_uri())
        return dg.MaterializeResult(metadata=metadata)

    return analyst_copy
