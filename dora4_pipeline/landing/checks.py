"""Checks on landing: damage in the archive is shown, never hidden."""

import dagster as dg

from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_check


@warehouse_check(
    asset=CANDIDATE_EVENTS,
    description="Open dead letters (records that could not be used), by reason.",
)
def no_open_dead_letters(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select reason, count(*) from ops.dead_letter_events where resolved_at is null "
            "group by reason order by 2 desc"
        ).fetchall()
    total = sum(count for _, count in rows)
    return dg.AssetCheckResult(
        passed=total == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "open_dead_letters": total,
            "by_reason": dg.MetadataValue.md(
                "\n".join(f"- {count} × {reason}" for reason, count in rows) or "none"
            ),
        },
    )
