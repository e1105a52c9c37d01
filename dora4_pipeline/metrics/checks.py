"""Checks users see in the UI: identity, ownership, and that the sums add up."""

import dagster as dg

from dora4_pipeline.markdown import table
from dora4_pipeline.metrics.assets import DEPLOYMENT_FREQUENCY_DAILY
from dora4_pipeline.normalize.assets import FCT_DEPLOYMENTS
from dora4_pipeline.normalize.near_misses import (
    is_unrecognised,
    near_misses_by_kind,
    unrecognised_examples,
)
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_check

OWNERSHIP_COLUMNS = ("ownership_ba", "ownership_pod", "ownership_team", "environment")


@warehouse_check(
    asset=FCT_DEPLOYMENTS,
    blocking=True,
    description="deployment_id is unique.",
)
def deployment_ids_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        duplicates = conn.execute(
            "select deployment_id, count(*) from marts.fct_deployments group by 1 "
            "having count(*) > 1 order by 2 desc limit 20"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not duplicates,
        metadata={"duplicated_ids": len(duplicates), "examples": str(duplicates[:5])},
    )


def build_ownership_check(warn_share: float) -> dg.AssetChecksDefinition:
    @warehouse_check(
        asset=FCT_DEPLOYMENTS,
        description=(
            "Every deployment has an owner or is counted as 'unassigned' (never NULL or "
            f"empty); warns when a day's unassigned share exceeds {warn_share:.0%}."
        ),
    )
    def ownership_complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        empty = " or ".join(f"coalesce({c}, '') = ''" for c in OWNERSHIP_COLUMNS)
        unassigned = " or ".join(f"{c} = 'unassigned'" for c in OWNERSHIP_COLUMNS[:3])
        with warehouse.connect() as conn:
            (missing,) = conn.execute(
                f"select count(*) from marts.fct_deployments where {empty}"  # noqa: S608
            ).fetchone()
            per_day = conn.execute(
                "select day, count(*), count(*) filter (where "  # noqa: S608
                f"{unassigned}), round(100 * count(*) filter (where {unassigned}) / count(*), 1) "
                "from marts.fct_deployments group by day order by day desc limit 60"
            ).fetchall()
        worst = max((percent for *_, percent in per_day), default=0.0)
        return dg.AssetCheckResult(
            passed=missing == 0 and worst <= 100 * warn_share,
            severity=dg.AssetCheckSeverity.ERROR if missing else dg.AssetCheckSeverity.WARN,
            metadata={
                "null_or_empty_owner_rows": missing,
                "worst_daily_unassigned_percent": float(worst),
                "warn_above_percent": 100 * warn_share,
                "unassigned_by_day": dg.MetadataValue.md(
                    table(["day", "deployments", "unassigned", "%"], per_day)
                ),
            },
        )

    return ownership_complete


@warehouse_check(
    asset=DEPLOYMENT_FREQUENCY_DAILY,
    blocking=True,
    description="Each day's counts sum to the rows of marts.fct_deployments they summarize.",
)
def daily_counts_match_deployments(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        mismatches = conn.execute(
            """
            with daily as (
                select day, sum(deployments) as counted
                from marts.deployment_frequency_daily group by day
            ),
            facts as (select day, count(*) as rows from marts.fct_deployments group by day)
            select daily.day, daily.counted, coalesce(facts.rows, 0)
            from daily left join facts using (day)
            where daily.counted <> coalesce(facts.rows, 0)
            order by daily.day
            """
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        metadata={
            "days_mismatched": len(mismatches),
            "mismatches": dg.MetadataValue.md(
                table(["day", "in daily counts", "in fct_deployments"], mismatches)
            ),
        },
    )


@warehouse_check(
    asset=FCT_DEPLOYMENTS,
    description=(
        "Every event that looks like a deployment signal is a deployment, a dead letter or a "
        "known near miss: warns when signals no rule recognises (kinds `*_unknown_*`, "
        "staging.stg_deployment_near_misses) appear, with examples."
    ),
)
def no_unrecognised_signals(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        by_kind = near_misses_by_kind(conn)
        unrecognised = [(kind, n) for kind, n in by_kind if is_unrecognised(kind)]
        # the examples are rows of those kinds: none to look for when there are none
        examples = unrecognised_examples(conn) if unrecognised else []
    return dg.AssetCheckResult(
        passed=not unrecognised,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unrecognised_signals": sum(n for _, n in unrecognised),
            "near_misses_by_kind": dg.MetadataValue.md(table(["kind", "events"], by_kind)),
            "examples": dg.MetadataValue.md(
                table(["kind", "would-be id", "time", "resource", "archive object"], examples)
                if examples
                else "none"
            ),
        },
    )
