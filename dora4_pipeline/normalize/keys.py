"""marts.fct_changes and marts.fct_failures: the inputs of lead time, change failure rate and
time to restore, built on marts.fct_deployments (rules: the SQL models and the README)."""

import dagster as dg

from dora4_pipeline import sql
from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.assets import FCT_DEPLOYMENTS
from dora4_pipeline.partitions import BACKFILL_POLICY, days_of, late_deliveries
from dora4_pipeline.resources.lake import ParquetLakeResource
from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL, WarehouseResource

FCT_CHANGES = dg.AssetKey(["marts", "fct_changes"])
FCT_FAILURES = dg.AssetKey(["marts", "fct_failures"])


def _deps(lateness_days: int) -> list[dg.AssetDep]:
    # A day's pushes, alerts and closes may be delivered until D + lateness, as deployments.
    return [
        dg.AssetDep(FCT_DEPLOYMENTS),
        dg.AssetDep(CANDIDATE_EVENTS, partition_mapping=late_deliveries(lateness_days)),
    ]


def build_changes_asset(
    partitions_def: dg.PartitionsDefinition, lateness_days: int
) -> dg.AssetsDefinition:
    @dg.asset(
        key=FCT_CHANGES,
        pool=WAREHOUSE_POOL,
        group_name="normalize",
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        deps=_deps(lateness_days),
        kinds={"duckdb"},
        description=(
            "One row per (production deployment, commit it shipped): GitLab pushes to the "
            "default branch attributed to the first production deployment of each component "
            "of the project after the push; lead_time_seconds = deployed_at - committed_at. "
            "Partitioned by the deployment's UTC day."
        ),
    )
    def fct_changes(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: ParquetLakeResource
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        with warehouse.connect() as conn:
            rows = sql.materialize_window(conn, "fct_changes", days[0], days[-1])
            per_day = conn.execute(
                "select day, count(*), count(distinct deployment_id), "
                "count(*) filter (where lead_time_seconds <= 0) from marts.fct_changes "
                "where day between ? and ? group by all order by all",
                [days[0], days[-1]],
            ).fetchall()
            lake.write_days(conn, "fct_changes", days)
        context.log.info(f"{rows} changes from {days[0]} to {days[-1]}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "non_positive_lead_times": sum(r[3] for r in per_day),
                "changes_by_day": dg.MetadataValue.md(
                    table(["day", "changes", "deployments", "lead time <= 0"], per_day)
                ),
            }
        )

    return fct_changes


def build_failures_asset(
    partitions_def: dg.PartitionsDefinition, lateness_days: int
) -> dg.AssetsDefinition:
    @dg.asset(
        key=FCT_FAILURES,
        pool=WAREHOUSE_POOL,
        group_name="normalize",
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        deps=_deps(lateness_days),
        kinds={"duckdb"},
        description=(
            "One row per failure: Opsgenie P1/P2 incidents, Lambda rollbacks to an earlier "
            "codeSha256, ECS circuit-breaker SERVICE_DEPLOYMENT_FAILED; with the deployment "
            "each is linked to. Partitioned by the UTC day the failure started."
        ),
    )
    def fct_failures(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: ParquetLakeResource
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        with warehouse.connect() as conn:
            rows = sql.materialize_window(conn, "fct_failures", days[0], days[-1])
            per_kind = conn.execute(
                "select day, kind, count(*), count(deployment_id), count(resolved_at) "
                "from marts.fct_failures where day between ? and ? group by all order by all",
                [days[0], days[-1]],
            ).fetchall()
            lake.write_days(conn, "fct_failures", days)
        context.log.info(f"{rows} failures from {days[0]} to {days[-1]}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "open_failures": sum(r[2] - r[4] for r in per_kind),
                "failures_by_day_and_kind": dg.MetadataValue.md(
                    table(["day", "kind", "failures", "linked", "resolved"], per_kind)
                ),
            }
        )

    return fct_failures
