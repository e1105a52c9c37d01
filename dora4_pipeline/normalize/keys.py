"""marts.fct_changes and marts.fct_failures: the inputs of lead time, change failure rate and
time to restore, built on marts.fct_deployments (rules: the SQL models and the README)."""

import dagster as dg

from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.assets import FCT_DEPLOYMENTS, materialize_fact
from dora4_pipeline.partitions import late_deliveries
from dora4_pipeline.resources.lake import ParquetLakeResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_asset

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
    @warehouse_asset(
        partitions_def,
        key=FCT_CHANGES,
        group_name="normalize",
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
        rows, per_day, parquet = materialize_fact(
            context,
            warehouse,
            lake,
            "fct_changes",
            "select day, count(*), count(distinct deployment_id), "
            "count(*) filter (where lead_time_seconds <= 0) from marts.fct_changes "
            "where day between ? and ? group by all order by all",
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "parquet": parquet,
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
    @warehouse_asset(
        partitions_def,
        key=FCT_FAILURES,
        group_name="normalize",
        deps=[*_deps(lateness_days), dg.AssetDep(FCT_CHANGES)],  # commits named by incidents
        kinds={"duckdb"},
        description=(
            "One row per failure: incidents (Opsgenie P1/P2, custom Incident events), Lambda "
            "rollbacks to older code, ECS circuit-breaker SERVICE_DEPLOYMENT_FAILED; with the "
            "deployment each is linked to and the rule that linked it (link_rule). "
            "Partitioned by the UTC day the failure started."
        ),
    )
    def fct_failures(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: ParquetLakeResource
    ) -> dg.MaterializeResult:
        rows, per_kind, parquet = materialize_fact(
            context,
            warehouse,
            lake,
            "fct_failures",
            "select day, kind, count(*), count(deployment_id), count(resolved_at), "
            "count(*) filter (where link_reference is not null and coalesce(link_rule, '') not in "
            "('deployment_id', 'code_sha256', 'image_digest', 'commit')) "
            "from marts.fct_failures where day between ? and ? group by all order by all",
        )
        unmatched = sum(r[5] for r in per_kind)
        if unmatched:
            context.log.warning(
                f"{unmatched} incidents name a deployment or commit that matches none: "
                "linked by component and time instead (marts.fct_failures.link_reference)"
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "parquet": parquet,
                "open_failures": sum(r[2] - r[4] for r in per_kind),
                "unmatched_references": unmatched,
                "failures_by_day_and_kind": dg.MetadataValue.md(
                    table(
                        ["day", "kind", "failures", "linked", "resolved", "unmatched reference"],
                        per_kind,
                    )
                ),
            }
        )

    return fct_failures
