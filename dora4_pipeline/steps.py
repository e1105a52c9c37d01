"""The policy every step shares, in one place: daily UTC partitions, a range of days as
one run, and the `dora4_warehouse` pool, so that no two runs write the DuckDB file at once.
Assets and checks use these decorators; a new step cannot forget the pool."""

import dagster as dg

from dora4_pipeline.partitions import BACKFILL_POLICY
from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL


def warehouse_asset(partitions_def: dg.PartitionsDefinition, **asset_kwargs):
    """`@dg.asset` for a partitioned step that opens the warehouse."""
    return dg.asset(
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
        **asset_kwargs,
    )


def warehouse_check(**check_kwargs):
    """`@dg.asset_check` for a check that opens the warehouse."""
    return dg.asset_check(pool=WAREHOUSE_POOL, **check_kwargs)
