"""marts.fct_changes and marts.fct_failures: the inputs of lead time, change failure rate and
time to restore, built on marts.fct_deployments (rules: the SQL models and the README)."""

import dagster as dg

from dora4_pipeline import sql
from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.assets import FCT_DEPLOYMENTS, materialize_fact
from dora4_pipeline.normalize.gitlab_commits import fetch_left_out_commits
from dora4_pipeline.partitions import days_of, late_deliveries
from dora4_pipeline.resources.gitlab import GitLabResource
from dora4_pipeline.resources.lake import ParquetLakeResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import stamp_days, warehouse_asset

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
            " Commits a push hook left out (over 20) are fetched once from GitLab's compare "
            "API when GITLAB_URL/GITLAB_TOKEN are set, else counted in marts.fct_change_gaps."
        ),
    )
    def fct_changes(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        lake: ParquetLakeResource,
        gitlab: GitLabResource,
    ) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            fetches = fetch_left_out_commits(conn, gitlab, context.log)
        _, per_day, parquet = materialize_fact(
            context,
            warehouse,
            lake,
            "fct_changes",
            "select day, count(*), count(distinct deployment_id), "
            "count(*) filter (where lead_time_seconds <= 0) from marts.fct_changes "
            "where day between ? and ? group by all order by all",
        )
        stamp_days(
            context,
            days_of(context.partition_time_window),
            {
                day: {"dagster/row_count": n, "non_positive_lead_times": bad}
                for day, n, _, bad in per_day
            },
            {"dagster/row_count": 0, "non_positive_lead_times": 0},
        )
        missing = _materialize_gaps(context, warehouse)
        return dg.MaterializeResult(
            metadata={
                "parquet": parquet,
                "lead_time_commits_missing": missing,
                **fetches.as_metadata(),
                "changes_by_day": dg.MetadataValue.md(
                    table(["day", "changes", "deployments", "lead time <= 0"], per_day)
                ),
            }
        )

    return fct_changes


def _materialize_gaps(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> int:
    """marts.fct_change_gaps for the run's days; warns when commits are missing."""
    days = days_of(context.partition_time_window)
    with warehouse.connect() as conn:
        sql.materialize_window(conn, "fct_change_gaps", days[0], days[-1])
        pushes, missing = conn.execute(
            "select count(distinct push_event_id), coalesce(sum(commits_missing), 0) "
            "from marts.fct_change_gaps where day between ? and ?",
            [days[0], days[-1]],
        ).fetchone()
    if missing:
        context.log.warning(
            f"{missing} commits of {pushes} pushes cut at 20 commits have no lead time "
            "(GitLab's API not set up or refusing; see marts.fct_change_gaps)"
        )
    return int(missing)


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
        _, per_kind, parquet = materialize_fact(
            context,
            warehouse,
            lake,
            "fct_failures",
            "select day, kind, count(*), count(deployment_id), count(resolved_at), "
            "count(*) filter (where link_reference is not null and coalesce(link_rule, '') not in "
            "('deployment_id', 'code_sha256', 'image_digest', 'commit')) "
            "from marts.fct_failures where day between ? and ? group by all order by all",
        )
        by_day: dict = {}
        for day, kind, failures, _, resolved, _ in per_kind:
            numbers = by_day.setdefault(day, {"dagster/row_count": 0, "open_failures": 0})
            numbers["dagster/row_count"] += failures
            numbers["open_failures"] += failures - resolved
            numbers[f"failures_{kind}"] = failures
        kinds = {f"failures_{kind}": 0 for _, kind, *_ in per_kind}
        stamp_days(
            context,
            days_of(context.partition_time_window),
            by_day,
            {"dagster/row_count": 0, "open_failures": 0, **kinds},
        )
        unmatched = sum(r[5] for r in per_kind)
        if unmatched:
            context.log.warning(
                f"{unmatched} incidents name a deployment or commit that matches none: "
                "linked by component and time instead (marts.fct_failures.link_reference)"
            )
        return dg.MaterializeResult(
            metadata={
                "parquet": parquet,
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
