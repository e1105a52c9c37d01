"""Publishing assets: a mart's rows as Datadog gauges, recorded in ops.datadog_publications.

`datadog/deployments_daily` sends `dora4.deployments.daily` from the daily mart;
`datadog/weekly_keys` sends the four keys and their bands from
marts.dora_weekly. Each reads its mart and the ledger, talks to Datadog (the client
retries 429 and 5xx itself), then records every point it sent, dry-ran or failed to send,
all under one hold of the warehouse: two overlapping runs publish one after the other, and
the later reads the mart as the earlier left it and the ledger as the earlier wrote it.
So Datadog ends with the mart's latest value whichever run publishes last (released
between read and record, a run could send a week's value computed before the other run's
days landed after the other run sent the right one). Under the `dora4_warehouse` pool the
step holds the slot for as long anyway. A payload whose request times out
(DORA4_HTTP_READ_TIMEOUT) is failed like any other.
A run whose points finally fail still records the rest, then fails; the next run sends
only what Datadog does not hold yet.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb
import urllib3
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.model.metric_content_encoding import MetricContentEncoding
from datadog_api_client.v2.model.metric_intake_type import MetricIntakeType
from datadog_api_client.v2.model.metric_payload import MetricPayload
from datadog_api_client.v2.model.metric_point import MetricPoint
from datadog_api_client.v2.model.metric_series import MetricSeries

from dora4_pipeline import sql
from dora4_pipeline.partitions import days_of
from dora4_pipeline.publish.plan import (
    DuePoint,
    Payload,
    Prior,
    current_points,
    due_points,
    payloads,
    series,
)
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_asset

HISTORICAL_AFTER_SECONDS = 3600  # older points need Historical Metrics Ingestion
PointRows = Iterable[tuple[str, date, list[str], float]]  # (metric, day, tags, value)


@dataclass(frozen=True)
class Publication:
    """What one publishing asset sends: which metrics, for which days of a run's window,
    read how from the warehouse, and whether values add up (counts) or not (medians)."""

    key: dg.AssetKey
    deps: list[dg.AssetKey]
    metrics: tuple[str, ...]
    description: str
    days: Callable[[list[date]], tuple[date, date]]  # the run's days → point days to read
    read: Callable[[duckdb.DuckDBPyConnection, date, date], PointRows]
    additive: bool


@dataclass(frozen=True)
class Outcome:
    """The fate of one payload's points."""

    points: list[DuePoint]
    payload: int
    status: str  # sent | dry_run | failed
    error: str | None = None


class PublishConfig(dg.Config):
    """`resend: true` sends every point of the window again, changed or not: after
    enabling Historical Metrics Ingestion, or when Datadog lost data."""

    resend: bool = False


def build_publish_asset(
    partitions_def: dg.PartitionsDefinition, publication: Publication
) -> dg.AssetsDefinition:
    @warehouse_asset(
        partitions_def,
        key=publication.key,
        group_name="publish",
        deps=publication.deps,
        kinds={"datadog"},
        description=publication.description,
    )
    def publish(
        context: dg.AssetExecutionContext,
        config: PublishConfig,
        warehouse: WarehouseResource,
        datadog: DatadogResource,
    ) -> dg.MaterializeResult:
        first, last = publication.days(days_of(context.partition_time_window))
        with warehouse.connect() as conn:  # held until recorded: see the module docstring
            current, collided = current_points(
                publication.read(conn, first, last), additive=publication.additive
            )
            prior = _ledger(conn, publication.metrics, first, last)
            if collided:
                context.log.warning(
                    f"{collided} groups became the same Datadog tag set (values differing "
                    "only in case or in characters Datadog replaces); "
                    + ("their counts were summed" if publication.additive else "they were left out")
                )
            due = due_points(
                current,
                prior,
                dry_run=datadog.dry_run,
                resend=config.resend,
                retract=publication.additive,
            )
            batches = payloads(series(due))
            historical = _say_historical(context, due)
            outcomes = _send(context, datadog, batches, due)
            _record(conn, outcomes, context.run.run_id, datadog)
        return _result(context, datadog, current, due, batches, outcomes, historical)

    return publish


def _ledger(
    conn: duckdb.DuckDBPyConnection, metrics: tuple[str, ...], first: date, last: date
) -> dict:
    rows = conn.execute(
        """
        select metric, day, tags,
            max_by(value, recorded_at) filter (where status = 'sent'),
            max_by(value, recorded_at) filter (where status in ('sent', 'dry_run'))
        from ops.datadog_publications
        where list_contains(?, metric) and day between ? and ?
        group by metric, day, tags
        """,
        [list(metrics), first, last],
    ).fetchall()
    return {
        (metric, day, tuple(tags.split(","))): Prior(sent, recorded)
        for metric, day, tags, sent, recorded in rows
    }


def _say_historical(context: dg.AssetExecutionContext, due: list[DuePoint]) -> int:
    cutoff = time.time() - HISTORICAL_AFTER_SECONDS
    old = sum(p.timestamp < cutoff for p in due)
    if old:
        context.log.warning(
            f"{old} of {len(due)} points are more than an hour old: Datadog keeps them only "
            "if Historical Metrics Ingestion is enabled for their metrics (README: "
            "'Publishing to Datadog'); otherwise Datadog does not keep them."
        )
    return old


def _send(
    context: dg.AssetExecutionContext,
    datadog: DatadogResource,
    batches: list[Payload],
    due: list[DuePoint],
) -> list[Outcome]:
    by_key = {(p.metric, p.timestamp, p.tags): p for p in due}

    def points_of(batch: list[dict]) -> list[DuePoint]:
        return [
            by_key[(item["metric"], point["timestamp"], tuple(item["tags"]))]
            for item in batch
            for point in item["points"]
        ]

    if datadog.dry_run:
        context.log.info(
            f"DD_API_KEY is not set: dry run. {len(due)} points in {len(batches)} payloads "
            "were built and recorded as dry_run in ops.datadog_publications; nothing was sent."
        )
        return [Outcome(points_of(b.series), n, "dry_run") for n, b in enumerate(batches, 1)]
    outcomes = []
    with datadog.api_client() as client:
        api = MetricsApi(client)
        for n, batch in enumerate(batches, 1):
            points = points_of(batch.series)
            try:
                api.submit_metrics(
                    body=_payload(batch.series), content_encoding=MetricContentEncoding.GZIP
                )
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
                reason = datadog.failure_reason(error)
                context.log.error(
                    f"payload {n}/{len(batches)}: {len(points)} points failed: {reason}"
                )
                outcomes.append(Outcome(points, n, "failed", reason))
                continue
            context.log.info(f"payload {n}/{len(batches)}: {len(points)} points sent")
            outcomes.append(Outcome(points, n, "sent"))
    return outcomes


def _payload(batch: list[dict]) -> MetricPayload:
    return MetricPayload(
        series=[
            MetricSeries(
                metric=item["metric"],
                type=MetricIntakeType.GAUGE,
                points=[
                    MetricPoint(timestamp=p["timestamp"], value=p["value"]) for p in item["points"]
                ],
                tags=item["tags"],
            )
            for item in batch
        ]
    )


def _record(conn, outcomes: list[Outcome], run_id: str, datadog: DatadogResource) -> None:
    """One row per point, bound as column lists (values never become SQL text)."""
    points = [(o, p) for o in outcomes for p in o.points]
    if not points:
        return
    with sql.transaction(conn):
        conn.execute(
            """
            insert into ops.datadog_publications
            select unnest($metric), unnest($day), unnest($point_timestamp), unnest($tags),
                unnest($value), unnest($change), unnest($status), unnest($error),
                unnest($payload), $run_id, $destination, now()
            """,
            {
                "metric": [p.metric for _, p in points],
                "day": [p.day for _, p in points],
                "point_timestamp": [p.timestamp for _, p in points],
                "tags": [",".join(p.tags) for _, p in points],
                "value": [p.value for _, p in points],
                "change": [p.change for _, p in points],
                "status": [o.status for o, _ in points],
                "error": [o.error for o, _ in points],
                "payload": [o.payload for o, _ in points],
                "run_id": run_id,
                "destination": "dry-run" if datadog.dry_run else datadog.destination,
            },
        )


def _result(context, datadog, current, due, batches, outcomes, historical) -> dg.MaterializeResult:
    by_status = Counter()
    for outcome in outcomes:
        by_status[outcome.status] += len(outcome.points)
    changes = Counter(p.change for p in due)
    metadata = {
        "dry_run": datadog.dry_run,
        "destination": "dry-run" if datadog.dry_run else datadog.destination,
        "points_in_window": len(current),
        "points_due": len(due),
        "points_unchanged": len(current) - (len(due) - changes["retracted"]),
        "points_retracted": changes["retracted"],
        "points_sent": by_status["sent"],
        "points_dry_run": by_status["dry_run"],
        "points_failed": by_status["failed"],
        "payloads": len(batches),
        "largest_payload_bytes": max((b.compressed_bytes for b in batches), default=0),
        "historical_points": historical,
    }
    if by_status["failed"]:
        first_error = next(o.error for o in outcomes if o.status == "failed")
        raise dg.Failure(
            description=(
                f"{by_status['failed']} of {len(due)} points did not reach Datadog after the "
                f"client's retries ({first_error}). They are in ops.datadog_publications with "
                "status 'failed'; rerun the partitions to send them."
            ),
            metadata=metadata,
        )
    context.log.info(
        f"{len(current)} points in the window: {len(due)} due, "
        f"{by_status['sent']} sent, {by_status['dry_run']} dry-run"
    )
    return dg.MaterializeResult(metadata=metadata)
