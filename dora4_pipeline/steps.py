"""The policy every step shares, in one place: daily UTC partitions, a range of days as
one run, and the `dora4_warehouse` pool, so that no two runs write the DuckDB file at once.
Assets and checks use these decorators; a new step cannot forget the pool."""

from collections.abc import Mapping, Sequence
from datetime import date

import dagster as dg

from dora4_pipeline.catalog import OWNERS, table_metadata
from dora4_pipeline.partitions import BACKFILL_POLICY
from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL


def warehouse_asset(partitions_def: dg.PartitionsDefinition, **asset_kwargs):
    """`@dg.asset` for a partitioned step that opens the warehouse, with the catalog's
    columns, SQL files and owner when the asset is a table."""
    metadata = {**table_metadata(asset_kwargs["key"]), **asset_kwargs.pop("metadata", {})}
    return dg.asset(
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
        metadata=metadata,
        owners=asset_kwargs.pop("owners", OWNERS),
        **asset_kwargs,
    )


def warehouse_check(**check_kwargs):
    """`@dg.asset_check` for a check that opens the warehouse."""
    return dg.asset_check(pool=WAREHOUSE_POOL, **check_kwargs)


def stamp_days(
    context: dg.AssetExecutionContext,
    days: Sequence[date],
    numbers: Mapping[date, Mapping[str, float]],
    zeros: Mapping[str, float],
) -> None:
    """Gives each partition of a multi-day run its own day's numbers (`zeros` where the day
    has none), so the UI shows a day's count on its day and the Plots tab draws days."""
    for day in days:
        context.add_asset_metadata({**zeros, **numbers.get(day, {})}, partition_key=day.isoformat())
