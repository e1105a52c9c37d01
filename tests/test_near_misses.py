"""Nothing that looks like a deployment signal disappears in silence: every signal is a
deployment, a dead letter or a near miss counted by kind (staging.stg_deployment_near_misses),
and signals no rule recognises make a check warn, with examples."""

import copy
import logging
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import pytest
from archive_helpers import write_object
from conftest import ARCHIVE_DAYS, ARCHIVE_START

from dora4_generator.custom_events import custom_deployment
from dora4_generator.events import (
    ecs_deployment_state_change,
    ecs_service_arn,
    eks_scaling_replica_set,
)
from dora4_pipeline import sql
from dora4_pipeline.landing.codedeploy import resolve_deployment_groups
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.metrics.checks import no_unrecognised_signals
from dora4_pipeline.normalize.near_misses import near_misses_by_kind
from dora4_pipeline.report import run_summary
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.tagging import TaggingResource
from dora4_pipeline.resources.warehouse import WarehouseResource

ACCOUNT, REGION = "444455556666", "eu-west-1"
DAY = date(2026, 3, 17)
SERVICE_ARN = ecs_service_arn(
    service="ledger-api", account=ACCOUNT, region=REGION, cluster="payments"
)

# A Lambda dry run as CloudTrail records it and EventBridge delivers it. Shape: the record of
# UpdateFunctionCode20150331v2 in the AWS Lambda Developer Guide, "Logging AWS Lambda API
# calls using AWS CloudTrail" (https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html),
# in the EventBridge envelope of "AWS API Call via CloudTrail" events
# (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-cloudtrail.html); the DryRun
# request parameter from the UpdateFunctionCode API reference
# (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html), which
# CloudTrail writes in lowerCamelCase like publish. Values invented.
DRY_RUN = {
    "version": "0",
    "id": "6f1c1a2e-0000-4d0a-9c1e-00000000d001",
    "detail-type": "AWS API Call via CloudTrail",
    "source": "aws.lambda",
    "account": ACCOUNT,
    "time": "2026-03-17T09:41:27Z",
    "region": REGION,
    "resources": [],
    "detail": {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:gitlab-ci",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/gitlab-deployer/gitlab-ci",
            "accountId": ACCOUNT,
        },
        "eventTime": "2026-03-17T09:41:26Z",
        "eventSource": "lambda.amazonaws.com",
        "eventName": "UpdateFunctionCode20150331v2",
        "awsRegion": REGION,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {
            "functionName": "invoice-renderer",
            "publish": True,
            "dryRun": True,
        },
        "responseElements": {
            "functionName": "invoice-renderer",
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:invoice-renderer",
            "runtime": "python3.12",
            "codeSha256": "kYuM3dhF0EXAMPLE=",
            "version": "$LATEST",
            "lastModified": "2026-03-10T08:00:00.000+0000",
            "state": "Active",
            "lastUpdateStatus": "Successful",
        },
        "requestID": "6f1c1a2e-0000-4d0a-9c1e-00000000d002",
        "eventID": "6f1c1a2e-0000-4d0a-9c1e-00000000d003",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    },
}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def ecs(envelope_id: str, name: str, deployment_id: str | None, when: datetime) -> dict:
    return ecs_deployment_state_change(
        envelope_id=envelope_id, envelope_time=when + timedelta(seconds=2),
        service_arn=SERVICE_ARN, event_name=name, deployment_id=deployment_id,
        updated_at=when, account=ACCOUNT, region=REGION,
    )  # fmt: skip


def eks(uid: str, message: str, when: datetime) -> dict:
    return eks_scaling_replica_set(
        envelope_id=f"env-{uid}", envelope_time=when + timedelta(seconds=3), account=ACCOUNT,
        region=REGION, cluster_name="eks-prod", namespace="checkout", deployment="cart-api",
        uid=uid, message=message, last_timestamp=when, labels=None,
    )  # fmt: skip


def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return no_unrecognised_signals(warehouse=warehouse)


@pytest.fixture
def warehouse(tmp_path) -> WarehouseResource:
    root = tmp_path / "archive"
    real_deploy = copy.deepcopy(DRY_RUN)
    real_deploy["id"] = "6f1c1a2e-0000-4d0a-9c1e-00000000e001"
    real_deploy["detail"]["eventID"] = "6f1c1a2e-0000-4d0a-9c1e-00000000e003"
    del real_deploy["detail"]["requestParameters"]["dryRun"]
    unknown_lambda = copy.deepcopy(DRY_RUN)  # an API version no rule knows yet
    unknown_lambda["id"] = "6f1c1a2e-0000-4d0a-9c1e-00000000f001"
    unknown_lambda["detail"]["eventID"] = "6f1c1a2e-0000-4d0a-9c1e-00000000f003"
    unknown_lambda["detail"]["eventName"] = "UpdateFunctionCode20250101"
    del unknown_lambda["detail"]["requestParameters"]["dryRun"]
    misnamed = custom_deployment(
        envelope_id="custom-typo", envelope_time=at(15), account=ACCOUNT, region=REGION,
        deployment_id="jenkins:88", finished_at=at(15), component="partner-portal",
        environment="production", tags={"Ownership.BA": "logistics"},
    )  # fmt: skip
    misnamed["detail-type"] = "deployment"  # not the documented `Deployment`
    events = [
        DRY_RUN,
        DRY_RUN,  # delivered twice: one near miss
        real_deploy,
        unknown_lambda,
        ecs("ecs-1", "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/1", at(10)),
        ecs("ecs-2", "SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/1", at(10, 20)),
        ecs("ecs-3", "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2", at(11)),
        ecs("ecs-4", "SERVICE_DEPLOYMENT_PAUSED", "ecs-svc/3", at(12)),  # a name AWS might add
        ecs("ecs-5", "SERVICE_DEPLOYMENT_FAILED", None, at(13)),  # a dead letter, not a near miss
        misnamed,
        # client-go's correlator rewrites the message after 10 similar events
        eks(
            "uid-up",
            "(combined from similar events): Scaled up replica set cart-api-7d4 from 2 to 3",
            at(14),
        ),
        eks("uid-down", "Scaled down replica set cart-api-5f9 from 3 to 2", at(14, 1)),
        eks("uid-zero", "Scaled down replica set cart-api-5f9 from 1 to 0", at(14, 2)),
    ]
    write_object(root, at(16), events, name="a")
    resource = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    with resource.connect() as conn:
        land_days(LocalArchive(str(root)), conn, [DAY], logging.getLogger("test"))
        sql.materialize_window(conn, "fct_deployments", DAY, DAY)
    return resource


def test_each_signal_is_a_deployment_or_a_near_miss_of_its_kind(warehouse):
    with duckdb.connect(warehouse.path, read_only=True) as conn:
        deployments = conn.execute(
            "select deployment_id from marts.fct_deployments order by 1"
        ).fetchall()
        by_kind = dict(near_misses_by_kind(conn))
        dry_run = conn.execute(
            "select deployment_id, changed_at, day, resource_id, source_event_id "
            "from staging.stg_deployment_near_misses where near_miss_kind = 'lambda_dry_run'"
        ).fetchall()
        (dead,) = conn.execute("select list(reason) from ops.dead_letter_events").fetchone()
    assert dead == ["missing detail.deploymentId"]  # the FAILED without its id
    assert deployments == [
        ("ecs:ecs-svc/1",),
        ("eks:uid-zero:1",),
        ("lambda:6f1c1a2e-0000-4d0a-9c1e-00000000e003",),
    ]
    assert by_kind == {
        "lambda_dry_run": 1,
        "lambda_unknown_event_name": 1,
        "ecs_in_progress": 1,
        "ecs_failed": 1,
        "ecs_unknown_event_name": 1,
        "custom_unknown_detail_type": 1,
        "eks_scale_up": 1,
        "eks_scale_down_partial": 1,
    }
    assert dry_run == [
        (
            "lambda:6f1c1a2e-0000-4d0a-9c1e-00000000d003",
            datetime(2026, 3, 17, 9, 41, 26, tzinfo=UTC),
            DAY,
            "invoice-renderer",
            DRY_RUN["id"],
        )
    ]


def test_unrecognised_signals_warn_with_examples(warehouse):
    result = check(warehouse)
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["unrecognised_signals"].value == 3
    examples = result.metadata["examples"].value
    for kind in (
        "lambda_unknown_event_name",
        "ecs_unknown_event_name",
        "custom_unknown_detail_type",
    ):
        assert kind in examples
    assert "ecs:ecs-svc/3" in examples and "dora4-events-1-" in examples


def test_the_summary_shows_near_misses_by_kind(warehouse):
    text = run_summary(warehouse.path, DAY, DAY)
    assert "8 near misses" in text
    assert "1 × lambda_dry_run" in text
    assert "1 × ecs_unknown_event_name  ← UNRECOGNISED" in text


def test_generated_near_misses_equal_the_generators_truth(generated, truth, tmp_path):
    resource = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    days = [ARCHIVE_START + timedelta(days=n) for n in range(ARCHIVE_DAYS + 1)]
    with resource.connect() as conn:
        land_days(LocalArchive(str(generated / "archive")), conn, days, logging.getLogger("t"))
    # CodeDeploy's groups are resolved as the tag snapshot step does (from the tags file)
    tagging = TaggingResource(tags_file=str(generated / "tags.json"))
    resolve_deployment_groups(tagging, tagging.sessions(), resource, logging.getLogger("t"))
    with resource.connect() as conn:
        found = dict(near_misses_by_kind(conn))
    assert found == truth["near_misses_by_kind"]
    assert {"lambda_dry_run", "custom_failed", "ecs_in_progress"} <= set(found)
    assert check(resource).passed  # the generator makes no unrecognised signals
