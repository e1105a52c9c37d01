"""The custom `Deployment` event any tool can send (docs/custom-events.md): counted as a
deployment of event_source `custom`, owned by its own tags or its resource's AWS tags; a
failed one is a failure; an invalid one is a dead letter with its reason."""

import copy
import logging
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from archive_helpers import write_object

from dora4_generator.custom_events import custom_deployment
from dora4_pipeline import sql
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.publish.tags import group_tags
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource

ACCOUNT, REGION = "111122223333", "eu-west-1"
DAY = date(2026, 3, 17)
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:invoice-renderer"

# What EventBridge delivers for this entry of `aws events put-events --entries file://e.json`
# (AWS EventBridge user guide, "Sending events with PutEvents",
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html): the entry's
# Source, DetailType and Detail (a JSON string, delivered parsed) in EventBridge's envelope
# ("Amazon EventBridge events", https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html),
# `resources` empty when the entry has none, `time` the entry's Time or the call's.
# The detail is our documented contract, filled as a GitHub Actions job would. Values invented.
GITHUB_ACTIONS = {
    "version": "0",
    "id": "3b1e5c7a-8f0e-4a7e-bf6a-0c5d2e9a1f01",
    "detail-type": "Deployment",
    "source": "dora4",
    "account": ACCOUNT,
    "time": "2026-03-17T10:15:09Z",
    "region": REGION,
    "resources": [],
    "detail": {
        "id": "github-actions:acme/mobile-api:9876543210:1",
        "finished_at": "2026-03-17T11:15:02+01:00",
        "component": "mobile-api",
        "environment": "production",
        "status": "succeeded",
        "version": "v1.42.0",
        "tags": {
            "Ownership.BA": "commerce",
            "Ownership.Pod": "checkout",
            "Ownership.Team": "cart",
            "Environment": "staging",  # the detail's own `environment` wins
            "Git.Repository": "commerce/mobile-api",
        },
    },
}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def custom(envelope_id: str, deployment_id: str | None, when: datetime, **kw) -> dict:
    return custom_deployment(
        envelope_id=envelope_id, envelope_time=when + timedelta(seconds=4), account=ACCOUNT,
        region=REGION, deployment_id=deployment_id, finished_at=when, **kw,
    )  # fmt: skip


def land(tmp_path, events: list[dict], **resource) -> duckdb.DuckDBPyConnection:
    root = tmp_path / "archive"
    write_object(root, at(18), events, name="a")
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"), **resource)
    with warehouse.connect() as conn:
        conn.execute(
            "insert into raw.resource_tag_snapshots values (?, ?, ?, now())",
            [DAY, FUNCTION_ARN, '{"Ownership.BA": "payments", "Ownership.Pod": "billing", '
             '"Ownership.Team": "invoicing", "Environment": "production"}'],
        )  # fmt: skip
        conn.execute("insert into ops.tag_snapshot_days values (?, now(), 'test', 1)", [DAY])
        land_days(LocalArchive(str(root)), conn, [DAY], logging.getLogger("test"))
        for table in ("fct_deployments", "deployment_frequency_daily", "fct_failures"):
            sql.materialize_window(conn, table, DAY, DAY)
    return duckdb.connect(warehouse.path, read_only=True)


@pytest.fixture
def landed(tmp_path):
    mobile = dict(component="mobile-api", environment="production",
                  tags={"Ownership.BA": "commerce", "Ownership.Pod": "checkout"})  # fmt: skip
    invalid = [
        custom("bad-1", None, at(13), **mobile),
        custom("bad-2", "jenkins:2", at(13), **mobile),
        custom("bad-3", "jenkins:3", at(13), status="success", **mobile),
        custom("bad-4", "jenkins:4", at(13), component="mobile-api"),
        custom("bad-5", "jenkins:5", at(13), component="x", tags=["Ownership.BA=commerce"]),
        custom("bad-6", "jenkins:6", at(13), component="x", resource="invoice-renderer"),
    ]
    invalid[1]["detail"]["finished_at"] = "2026-03-17 13:00:00"  # no zone
    lowercase = custom("tf-1", "terraform:1", at(9), resource=FUNCTION_ARN)
    lowercase["detail"]["finished_at"] = "2026-03-17t09:00:00z"  # RFC 3339 allows t and z
    events = [
        GITHUB_ACTIONS,
        GITHUB_ACTIONS,  # delivered twice: one deployment
        lowercase,
        custom(
            "tf-2",
            "terraform:2",
            at(9, 30),
            resource=FUNCTION_ARN,
            tags={"Ownership.Team": "billing-platform"},
        ),  # fmt: skip
        custom("gha-fail", "github-actions:fail", at(12), status="failed", **mobile),
        custom("gha-fix", "github-actions:fix", at(12, 40), **mobile),
        *invalid,
    ]
    return land(tmp_path, events)


def test_custom_deployments_count_once_with_their_owners(landed):
    rows = landed.execute(
        "select deployment_id, deployed_at, day, event_source, component_type, component_name, "
        "resource_id, environment, ownership_ba, ownership_pod, ownership_team, git_repository "
        "from marts.fct_deployments order by deployed_at"
    ).fetchall()
    custom_ = ("custom", "custom")
    assert rows == [
        ("custom:terraform:1", at(9), DAY, *custom_, "invoice-renderer", FUNCTION_ARN,
         "production", "payments", "billing", "invoicing", "unassigned"),
        ("custom:terraform:2", at(9, 30), DAY, *custom_, "invoice-renderer", FUNCTION_ARN,
         "production", "payments", "billing", "billing-platform", "unassigned"),
        ("custom:github-actions:acme/mobile-api:9876543210:1", at(10, 15) + timedelta(seconds=2),
         DAY, *custom_, "mobile-api", "mobile-api", "production", "commerce", "checkout", "cart",
         "commerce/mobile-api"),
        ("custom:github-actions:fix", at(12, 40), DAY, *custom_, "mobile-api", "mobile-api",
         "production", "commerce", "checkout", "unassigned", "unassigned"),
    ]  # fmt: skip


def test_a_failed_custom_deployment_is_a_failed_attempt_owned_like_the_live_one(landed):
    # spec r2: like an ECS circuit breaker, the failed attempt is the failed change; the
    # healthy deployment live before it is not blamed (its owners still apply)
    rows = landed.execute(
        "select failure_id, kind, started_at, resolved_at, deployment_id, link_rule, "
        "component_name, environment, ownership_ba from marts.fct_failures"
    ).fetchall()
    assert rows == [
        ("custom:github-actions:fail", "failed_deployment", at(12), at(12, 40),
         "custom:github-actions:fail", "failed_attempt", "mobile-api", "production",
         "commerce"),
    ]  # fmt: skip


def test_invalid_custom_events_are_dead_letters_with_their_reason(landed):
    reasons = [
        r
        for (r,) in landed.execute(
            "select reason from ops.dead_letter_events order by reason"
        ).fetchall()
    ]
    assert reasons == [
        "custom Deployment: detail.resource is not an ARN",
        'custom Deployment: detail.status must be "succeeded" or "failed"',
        "custom Deployment: detail.tags is not an object",
        "custom Deployment: missing detail.id",
        "custom Deployment: missing or unreadable detail.finished_at (RFC 3339 with a zone, "
        "e.g. 2026-03-17T14:02:11Z)",
        "custom Deployment: neither detail.tags nor detail.resource (nothing says whose "
        "deployment it is)",
    ]


def test_the_datadog_tag_says_custom(landed):
    cursor = landed.execute(
        "select * from marts.deployment_frequency_daily where component_name = 'mobile-api'"
    )
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    assert sum(row["deployments"] for row in rows) == 2  # two groups: one event named a team
    for row in rows:
        assert "dora4.event.source:custom" in group_tags(row)
        assert "dora4.component.type:custom" in group_tags(row)


def test_the_custom_source_is_configurable(tmp_path):
    ours = copy.deepcopy(GITHUB_ACTIONS)
    ours["source"] = "acme.deployments"
    conn = land(tmp_path, [ours, GITHUB_ACTIONS], custom_source="acme.deployments")
    rows = conn.execute("select deployment_id, event_source from marts.fct_deployments").fetchall()
    assert rows == [("custom:github-actions:acme/mobile-api:9876543210:1", "custom")]
    (stored,) = conn.execute("select count(*) from raw.candidate_events").fetchone()
    assert stored == 1  # the other source is noise now: counted, not kept
