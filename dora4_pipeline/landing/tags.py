"""raw.resource_tag_snapshots: what the tags said on each day, so history is not rewritten.

A day's snapshot is taken once and then kept: rerunning a past day after its resources
were re-tagged attributes its deployments as they were owned then. `retake: true` in the
run config replaces the snapshots of the run's days on purpose. A day whose snapshot
missed an account (its role could not be assumed) is taken again on the next run.

The same step asks CodeDeploy which ECS services each deployment group seen in the events
deploys (raw.codedeploy_deployment_groups, landing/codedeploy.py): both are ownership
lookups in the events' own accounts, so they run after landing.
"""

import json
from datetime import UTC, datetime

import dagster as dg

from dora4_pipeline import sql
from dora4_pipeline.landing.assets import CANDIDATE_EVENTS
from dora4_pipeline.landing.codedeploy import resolve_deployment_groups
from dora4_pipeline.partitions import days_of
from dora4_pipeline.resources.tagging import TaggingResource, TagSnapshot
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_asset

RESOURCE_TAG_SNAPSHOTS = dg.AssetKey(["raw", "resource_tag_snapshots"])
# Accounts whose resources are tagged or deployed by CodeDeploy: the events' own accounts.
_SEEN_ACCOUNTS = (
    "select distinct account from raw.candidate_events "
    "where source in ('aws.lambda', 'aws.ecs', 'aws.codedeploy') and account is not null "
    "order by account"
)


class TagSnapshotConfig(dg.Config):
    retake: bool = False


def build_tag_snapshot_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @warehouse_asset(
        partitions_def,
        key=RESOURCE_TAG_SNAPSHOTS,
        group_name="landing",
        deps=[CANDIDATE_EVENTS],
        kinds={"duckdb", "aws"},
        description=(
            "Tags of Lambda functions and ECS services (Resource Groups Tagging API in every "
            "account and region, or DORA4_TAGS_FILE) as observed for each day, kept once "
            "taken; and the ECS services of CodeDeploy deployment groups seen in the events."
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
                    "where snapshot_day between ? and ? and snapshot_day not in "
                    "(select snapshot_day from ops.tag_snapshot_unreachable)",
                    [days[0], days[-1]],
                ).fetchall()
            }
            seen = [account for (account,) in conn.execute(_SEEN_ACCOUNTS).fetchall()]
        to_take = days if config.retake else [d for d in days if d not in taken]
        sessions = tagging.sessions()
        # The APIs are asked outside the warehouse connection: no other run waits on AWS.
        snapshot = tagging.snapshot(seen, sessions) if to_take else TagSnapshot()
        for unreachable in snapshot.unreachable:
            context.log.warning(str(unreachable))
        if to_take:
            with warehouse.connect() as conn:
                _store(conn, to_take, snapshot, tagging.tags_file or "tagging-api")
        groups = resolve_deployment_groups(tagging, sessions, warehouse, context.log)
        kept = len(days) - len(to_take)
        context.log.info(
            f"tag snapshots: {len(to_take)} days taken ({len(snapshot.tags)} tagged resources), "
            f"{kept} days kept as first observed"
        )
        return dg.MaterializeResult(
            metadata={
                "days_taken": len(to_take),
                "days_kept": kept,
                "tagged_resources": len(snapshot.tags),
                "accounts_seen": len(seen),
                "unreachable_accounts": ", ".join(u.account for u in snapshot.unreachable)
                or "none",
                **groups,
            }
        )

    return resource_tag_snapshots


def _store(conn, days, snapshot: TagSnapshot, source: str) -> None:
    tags = snapshot.tags
    arns = sorted(tags)
    documents = [json.dumps(tags[arn], sort_keys=True) for arn in arns]
    now = datetime.now(UTC)
    with sql.transaction(conn):
        for day in days:
            conn.execute("delete from raw.resource_tag_snapshots where snapshot_day = ?", [day])
            conn.execute("delete from ops.tag_snapshot_days where snapshot_day = ?", [day])
            conn.execute("delete from ops.tag_snapshot_unreachable where snapshot_day = ?", [day])
            conn.execute(
                "insert into raw.resource_tag_snapshots "
                "select $day, unnest($arns), unnest($tags)::json, $now",
                {"day": day, "arns": arns, "tags": documents, "now": now},
            )
            conn.execute(
                "insert into ops.tag_snapshot_days values (?, ?, ?, ?)",
                [day, now, source, len(arns)],
            )
            for unreachable in snapshot.unreachable:
                conn.execute(
                    "insert into ops.tag_snapshot_unreachable values (?, ?, ?, ?, ?)",
                    [day, unreachable.account, unreachable.role_arn, str(unreachable), now],
                )
