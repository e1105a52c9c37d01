"""Landing asset: archive objects delivered on a day → raw.candidate_events (+ manifest)."""

import dagster as dg

from dora4_pipeline.events.records import DEFAULT_LIMITS, Limits
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.partitions import days_of
from dora4_pipeline.resources.archive import ArchiveResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_asset

CANDIDATE_EVENTS = dg.AssetKey(["raw", "candidate_events"])


def build_landing_asset(
    partitions_def: dg.PartitionsDefinition, limits: Limits = DEFAULT_LIMITS
) -> dg.AssetsDefinition:
    """`limits`: what one record may be (DORA4_MAX_RECORD_BYTES, DORA4_MAX_JSON_DEPTH)."""

    @warehouse_asset(
        partitions_def,
        key=CANDIDATE_EVENTS,
        group_name="landing",
        kinds={"duckdb", "s3"},
        description=(
            "Archive objects DELIVERED on the partition's day (Firehose folder hour), each "
            "landed once (key + ETag): deployment-signal candidates kept, noise counted per "
            "object in ops.object_event_counts, damage kept in ops.dead_letter_events "
            "(records over the size or depth limit included: they never stop landing)."
        ),
    )
    def candidate_events(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        opened = archive.open()
        with warehouse.connect() as conn:
            report = land_days(opened, conn, days, context.log, limits)
        if report.dead_letters:
            context.log.warning(
                f"{report.dead_letters} records could not be used: see ops.dead_letter_events"
            )
        return dg.MaterializeResult(
            metadata={
                **report.as_metadata(),
                "days": f"{days[0]} … {days[-1]}",
                "outside_layout_examples": ", ".join(report.outside_layout_keys[:5]) or "none",
            }
        )

    return candidate_events
