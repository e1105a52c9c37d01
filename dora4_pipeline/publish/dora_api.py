"""datadog/dora_deployments (optional, DORA4_DATADOG_DORA_API=true): each production
deployment sent to Datadog's DORA Metrics API, so teams using Datadog's DORA product
see the same deployments we count.

Each deployment goes once: its id is derived from ours (valid for the API: 16–128 of
`a-z A-Z 0-9 - _ . :`), and ops.datadog_dora_deployments records every attempt; a rerun
sends only what was never accepted. A deployment that fails is recorded, the rest still
go, and the run fails.

Each carries what Datadog's own rollback detection and lead time need, where we know it:
`version`, the code's identity (fct_deployments.version: a Lambda's codeSha256), and `git`
(the newest commit it shipped, from the GitLab push that brought it, with the project's URL).
Nothing is invented where we do not know: a made-up version would hide rollbacks.
"""

import hashlib
import re
from datetime import date

import dagster as dg
import urllib3
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v2.api.dora_metrics_api import DORAMetricsApi
from datadog_api_client.v2.model.dora_deployment_request import DORADeploymentRequest
from datadog_api_client.v2.model.dora_deployment_request_attributes import (
    DORADeploymentRequestAttributes,
)
from datadog_api_client.v2.model.dora_deployment_request_data import DORADeploymentRequestData
from datadog_api_client.v2.model.dora_git_info import DORAGitInfo

from dora4_pipeline import sql
from dora4_pipeline.normalize.assets import FCT_DEPLOYMENTS
from dora4_pipeline.normalize.keys import FCT_CHANGES
from dora4_pipeline.partitions import days_of
from dora4_pipeline.publish.tags import tag
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_asset

DATADOG_DORA_DEPLOYMENTS = dg.AssetKey(["datadog", "dora_deployments"])
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9\-_.:]")
_COMMIT_SHA = re.compile(r"[0-9a-fA-F]{40,64}")


def dora_id(deployment_id: str) -> str:
    """Our deployment id as the DORA API accepts it; a digest where it would not fit."""
    candidate = "dora4-" + _NOT_ALLOWED.sub("_", deployment_id)
    if 16 <= len(candidate) <= 128:
        return candidate
    return "dora4-" + hashlib.sha256(deployment_id.encode()).hexdigest()[:40]


def build_dora_deployments_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @warehouse_asset(
        partitions_def,
        key=DATADOG_DORA_DEPLOYMENTS,
        group_name="publish",
        deps=[FCT_DEPLOYMENTS, FCT_CHANGES],  # the commit each deployment shipped
        kinds={"datadog"},
        description=(
            "Each production deployment sent once to Datadog's DORA Metrics API "
            "(create_dora_deployment). Ledger: ops.datadog_dora_deployments."
        ),
    )
    def dora_deployments(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, datadog: DatadogResource
    ) -> dg.MaterializeResult:
        days = days_of(context.partition_time_window)
        with warehouse.connect() as conn:
            pending = _pending(conn, days[0], days[-1], dry_run=datadog.dry_run)
        outcomes = _send(context, datadog, pending)
        if outcomes:
            with warehouse.connect() as conn, sql.transaction(conn):
                conn.executemany(
                    "insert into ops.datadog_dora_deployments values (?, ?, ?, ?, ?, now())",
                    [
                        (row[0], dora_id(row[0]), status, error, context.run.run_id)
                        for row, status, error in outcomes
                    ],
                )
        failed = [error for _, status, error in outcomes if status == "failed"]
        metadata = {
            "deployments_due": len(pending),
            "sent": sum(status == "sent" for _, status, _ in outcomes),
            "dry_run": datadog.dry_run,
            "failed": len(failed),
        }
        if failed:
            raise dg.Failure(
                f"{len(failed)} of {len(pending)} deployments did not reach Datadog's DORA API "
                f"({failed[0]}); recorded in ops.datadog_dora_deployments, rerun to send them.",
                metadata=metadata,
            )
        return dg.MaterializeResult(metadata=metadata)

    return dora_deployments


def _pending(conn, first: date, last: date, *, dry_run: bool) -> list[tuple]:
    """Production deployments of the days that Datadog has not accepted (or, in a dry run,
    that were not recorded yet)."""
    done = "('sent', 'dry_run')" if dry_run else "('sent')"
    return conn.execute(
        f"""
        with shipped_pushes as (
            select c.deployment_id,
                arg_max(p.after_sha, p.pushed_at) as commit_sha,
                arg_max(p.web_url, p.pushed_at) as repository_url
            from marts.fct_changes c
            join staging.stg_gitlab_pushes p on p.source_event_id = c.source_event_id
            where c.day between ? and ?
            group by all
        )
        select f.deployment_id, f.deployed_at, f.component_name, f.environment,
            f.ownership_ba, f.ownership_pod, f.ownership_team, f.version,
            s.commit_sha, s.repository_url
        from marts.fct_deployments f
        left join shipped_pushes s using (deployment_id)
        where f.day between ? and ? and f.environment = 'production'
          and not exists (
            select 1 from ops.datadog_dora_deployments d
            where d.deployment_id = f.deployment_id and d.status in {done})
        order by f.deployed_at
        """,  # noqa: S608 (a fixed list chosen above)
        [first, last, first, last],
    ).fetchall()


def _send(context, datadog: DatadogResource, pending: list[tuple]) -> list[tuple]:
    if datadog.dry_run:
        context.log.info(f"DD_API_KEY is not set: dry run, {len(pending)} deployments recorded")
        return [(row, "dry_run", None) for row in pending]
    outcomes = []
    with datadog.api_client() as client:
        api = DORAMetricsApi(client)
        for n, row in enumerate(pending, 1):
            try:
                api.create_dora_deployment(body=_request(row))
                outcomes.append((row, "sent", None))
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
                reason = datadog.failure_reason(error, limit=300)
                outcomes.append((row, "failed", reason))
            if n % 100 == 0 or n == len(pending):
                context.log.info(f"DORA API: {n}/{len(pending)} deployments")
    return outcomes


def _request(row: tuple) -> DORADeploymentRequest:
    deployment_id, deployed_at, component, environment, ba, pod, team, version, sha, url = row
    nanos = int(deployed_at.timestamp() * 1_000_000) * 1000
    known = {}
    if version:
        known["version"] = version
    if sha and url and _COMMIT_SHA.fullmatch(sha):
        known["git"] = DORAGitInfo(commit_sha=sha, repository_url=url)
    return DORADeploymentRequest(
        data=DORADeploymentRequestData(
            attributes=DORADeploymentRequestAttributes(
                id=dora_id(deployment_id),
                service=component,
                env=environment,
                team=team,
                started_at=nanos,  # the infrastructure reports when it finished, only
                finished_at=nanos,
                custom_tags=[tag("dora4.ownership.ba", ba), tag("dora4.ownership.pod", pod)],
                **known,
            )
        )
    )
