"""Assembles the code location from Settings: assets, checks, jobs, automation, resources.

Importing this module reads no environment and builds nothing: `definitions.py` (what
workspace.yaml loads) builds from the environment, `dora4 run` from its own Settings, so
a bad variable ends in the CLI's one-line error, never in an import-time traceback."""

from __future__ import annotations

import warnings
from datetime import date

import dagster as dg

from dora4_pipeline.automation import (
    build_archive_sensor,
    build_daily_job,
    build_daily_schedule,
)
from dora4_pipeline.landing.assets import build_landing_asset
from dora4_pipeline.landing.checks import no_open_dead_letters
from dora4_pipeline.landing.tags import build_tag_snapshot_asset
from dora4_pipeline.metrics.assets import (
    DEPLOYMENT_FREQUENCY_DAILY,
    build_analyst_copy_asset,
    build_frequency_asset,
)
from dora4_pipeline.metrics.checks import (
    build_ownership_check,
    daily_counts_match_deployments,
    deployment_ids_unique,
    no_unrecognised_signals,
)
from dora4_pipeline.metrics.periods import GRAINS, build_period_asset
from dora4_pipeline.normalize.assets import build_deployments_asset
from dora4_pipeline.normalize.checks import lead_time_commits_complete
from dora4_pipeline.normalize.keys import (
    FCT_CHANGES,
    FCT_FAILURES,
    build_changes_asset,
    build_failures_asset,
)
from dora4_pipeline.partitions import daily_partitions
from dora4_pipeline.publish.assets import build_publish_asset
from dora4_pipeline.publish.dora_api import build_dora_deployments_asset
from dora4_pipeline.publish.publications import deployments_daily, dora_weekly
from dora4_pipeline.resources.archive import ArchiveResource
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.resources.gitlab import GitLabResource
from dora4_pipeline.resources.lake import ParquetLakeResource
from dora4_pipeline.resources.tagging import TaggingResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.schema_checks import build_schema_checks
from dora4_pipeline.settings import Settings

# Single-run backfills and nonexistent-upstream mapping are marked beta; we rely on both.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def build_definitions(
    settings: Settings,
    datadog: DatadogResource | None = None,
    gitlab: GitLabResource | None = None,
) -> dg.Definitions:
    """`datadog` defaults to DD_API_KEY/DD_APP_KEY/DD_SITE/DORA4_DATADOG_URL, `gitlab` to
    GITLAB_URL/GITLAB_TOKEN."""
    partitions = daily_partitions(settings.partitions_start)
    periods = [
        build_period_asset(partitions, grain, settings.spec, [FCT_CHANGES, FCT_FAILURES])
        for grain in GRAINS
    ]
    first_partition = date.fromisoformat(settings.partitions_start)
    daily_job = build_daily_job()
    assets = [
        build_landing_asset(partitions, settings.record_limits),
        build_tag_snapshot_asset(partitions),
        build_deployments_asset(partitions, settings.lateness_days),
        build_frequency_asset(partitions),
        build_changes_asset(partitions, settings.lateness_days),
        build_failures_asset(partitions, settings.lateness_days),
        *periods,
        build_analyst_copy_asset(
            partitions, [DEPLOYMENT_FREQUENCY_DAILY, *(p.key for p in periods)]
        ),
        build_publish_asset(partitions, deployments_daily()),
        build_publish_asset(partitions, dora_weekly(settings.spec)),
        *([build_dora_deployments_asset(partitions)] if settings.datadog_dora_api else []),
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=[
            no_open_dead_letters,
            deployment_ids_unique,
            build_ownership_check(settings.unassigned_warn_share),
            daily_counts_match_deployments,
            no_unrecognised_signals,
            lead_time_commits_complete,
            *build_schema_checks({key for asset in assets for key in asset.keys}),
        ],
        jobs=[daily_job],
        schedules=[
            build_daily_schedule(
                daily_job, settings.schedule_cron, settings.lateness_days, first_partition
            )
        ],
        sensors=[
            build_archive_sensor(
                daily_job, settings.lateness_days, first_partition, settings.sensor_lookback_days
            )
        ],
        resources={
            "archive": ArchiveResource(uri=settings.archive_uri, network=settings.aws_network),
            "tagging": TaggingResource(
                tags_file=settings.tags_file,
                regions=list(settings.tag_regions),
                network=settings.aws_network,
                role_arn_template=settings.tag_role_arn,
                accounts=list(settings.tag_accounts),
            ),
            "warehouse": WarehouseResource(
                path=settings.warehouse,
                tag_aliases={k: list(v) for k, v in settings.tag_aliases.items()},
                gitlab_sources=list(settings.gitlab_sources),
                opsgenie_sources=list(settings.opsgenie_sources),
                custom_source=settings.custom_source,
                max_change_age_days=settings.change_age_days,
                max_change_ahead_days=settings.max_change_ahead_days,
            ),
            "datadog": datadog or DatadogResource.from_env(),
            "gitlab": gitlab or GitLabResource.from_env(),
            "lake": ParquetLakeResource(
                uri=settings.parquet_location, network=settings.aws_network
            ),
        },
        # One DuckDB file takes one writer: steps of a run go one after another.
        executor=dg.in_process_executor,
    )
