"""raw.resource_tag_snapshots: what the tags said on each day, so history is not rewritten.

A day's snapshot is taken once and then kept: rerunning a past day after its resources
were re-tagged attributes its deployments as they were owned then. `retake: true` in the
run config replaces the snapshots of the run's days on purpose.
"""

import json
from datetime import UTC, datetime

import dagster as dg

from dora4_pipeline import sql
from dora4_pipeline.partitions import days_of
from dora4_pipeline.resources.tagging import TaggingResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_asset

RESOURCE_TAG_SNAPSHOTS = dg.AssetKey(["raw", "resource_tag_snapshots"])


class TagSnapshotConfig(dg.Config):
    retake: bool = False


def build_tag_snapshot_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @warehouse_asset(
        partitions_def,
        key=RESOURCE_TAG_SNAPSHOTS,
        group_name="landing",
        kinds={"duckdb", "aws"},
        description=(
            "Tags of Lambda functions and ECS services (Resource Groups Tagging API, or "
            "DORA4_TAGS_FILE) as observed for each day; kept once taken."
        ),
    )
    def resource_tag_snapshots(
        context: dg.AssetExecutionContext,
        config: TagSnapshotConfig,
        tagging: TaggingResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        with warehouse.connect() as conn:
            taken = {
                day
                for (day,) in conn.execute(
                    "select snapshot_day from ops.tag_snapshot_days "
                    "where snapshot_day between ? and ?",
                    [days[0], days[-1]],
                ).fetchall()
            }
        to_take = days if config.retake else [d for d in days if d not in taken]
        # The API is asked outside the warehouse connection: no other run waits on AWS.
        tags = tagging.snapshot() if to_take else {}
        if to_take:
            with warehouse.connect() as conn:
                _store(conn, to_take, tags, tagging.tags_file or "tagging-api")
        kept = len(days) - len(to_take)
        context.log.info(
            f"tag snapshots: {len(to_take)} days taken ({len(tags)} tagged resources), "
            f"{kept} days kept as first observed"
        )
        return dg.MaterializeResult(
            metadata={"days_taken": len(to_take), "days_kept": kept, "tagged_resources": len(tags)}
        )

    return resource_tag_snapshots


def _store(conn, days, tags: dict[str, dict[str, str]], source: str) -> None:
    arns = sorted(tags)
    documents = [json.dumps(tags[arn], sort_keys=True) for arn in arns]
    now = datetime.now(UTC)
    with sql.transaction(conn):
        for day in days:
            conn.execute("delete from raw.resource_tag_snapshots where snapshot_day = ?", [day])
            conn.execute("delete from ops.tag_snapshot_days where snapshot_day = ?", [day])
            conn.execute(
                "insert into raw.resource_tag_snapshots "
                "select $day, unnest($arns), unnest($tags)::json, $now",
                {"day": day, "arns": arns, "tags": documents, "now": now},
            )
            conn.execute(
                "insert into ops.tag_snapshot_days values (?, ?, ?, ?)",
                [day, now, source, len(arns)],
            )
