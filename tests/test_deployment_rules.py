"""What counts as a deployment, its time and identity: hand-built events through the real
landing and SQL models on a DuckDB file."""

import logging
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from archive_helpers import write_object

from dora4_generator.events import (
    cloudtrail_other_call,
    ecs_deployment_state_change,
    ecs_service_arn,
    eks_scaling_replica_set,
    lambda_update_function_code,
    scaling_message,
)
from dora4_pipeline import sql
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource

ACCOUNT, REGION = "444455556666", "eu-west-1"
DAY = date(2026, 3, 17)
NEXT_DAY = DAY + timedelta(days=1)
LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:invoice-renderer"
SERVICE_ARN = ecs_service_arn(
    service="ledger-api", account=ACCOUNT, region=REGION, cluster="payments"
)
SHORT_SERVICE_ARN = ecs_service_arn(
    service="legacy-api", account=ACCOUNT, region=REGION, cluster=None
)


def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def lambda_deploy(event_id: str, when: datetime, form: str, **kw) -> dict:
    return lambda_update_function_code(
        event_id=event_id,
        event_time=when,
        function_name_form=form,
        function_name="invoice-renderer",
        account=ACCOUNT,
        region=REGION,
        publish=kw.pop("publish", True),
        version=kw.pop("version", 12),
        **kw,
    )


def ecs_event(
    envelope_id: str,
    name: str,
    deployment_id: str | None,
    when: datetime,
    service_arn: str = SERVICE_ARN,
) -> dict:
    return ecs_deployment_state_change(
        envelope_id=envelope_id,
        envelope_time=when + timedelta(seconds=2),
        service_arn=service_arn,
        event_name=name,
        deployment_id=deployment_id,
        updated_at=when,
        account=ACCOUNT,
        region=REGION,
    )


def eks_event(envelope_id: str, uid: str, message: str, when: datetime | None, **kw) -> dict:
    return eks_scaling_replica_set(
        envelope_id=envelope_id,
        envelope_time=kw.pop("envelope_time", (when or at(0)) + timedelta(seconds=3)),
        account=ACCOUNT,
        region=REGION,
        cluster_name="eks-prod",
        namespace="checkout",
        deployment="cart-api",
        uid=uid,
        message=message,
        last_timestamp=when,
        labels={
            "Ownership.BA": "commerce",
            "ownership.pod": "checkout",
            "Environment": "production",
        },
        **kw,
    )


def down(wording: int, old: int = 3, new: int = 0) -> str:
    return scaling_message("cart-api-5f9c7d6b8d", old=old, new=new, wording=wording)


@pytest.fixture
def landed(tmp_path):
    """Writes the objects, lands the two delivery days, builds fct_deployments for DAY."""
    root = tmp_path / "archive"
    duplicate = eks_event("env-eks-dup", "uid-a", down(0), at(10))
    late_lambda = lambda_deploy(
        "ct-late", at(23, 59, 58), "name", envelope_time=at(0, 0, 3, day=NEXT_DAY)
    )
    write_object(
        root,
        at(10),
        [
            lambda_deploy("ct-name", at(10, 1), "name"),
            lambda_deploy("ct-arn", at(10, 2), "arn", publish=False),
            lambda_deploy("ct-partial", at(10, 3), "partial_arn"),
            lambda_deploy("ct-failed", at(10, 4), "name", error_code="ResourceConflictException"),
            cloudtrail_other_call(
                event_id="ct-config",
                event_time=at(10, 5),
                event_name="UpdateFunctionConfiguration20150331v2",
                function_name="invoice-renderer",
                account=ACCOUNT,
                region=REGION,
            ),
            ecs_event("env-ecs-1", "SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/1", at(10, 6)),
            ecs_event("env-ecs-2", "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2", at(10, 7)),
            ecs_event("env-ecs-3", "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/3", at(10, 8)),
            ecs_event(
                "env-ecs-4",
                "SERVICE_DEPLOYMENT_COMPLETED",
                "ecs-svc/4",
                at(10, 9),
                SHORT_SERVICE_ARN,
            ),
            ecs_event("env-ecs-5", "SERVICE_DEPLOYMENT_COMPLETED", None, at(10, 10)),
            duplicate,
            eks_event("env-eks-b", "uid-b", down(1), at(10, 11)),
            eks_event("env-eks-c", "uid-c", down(2), at(10, 12)),
            eks_event(
                "env-eks-d", "uid-d", down(2), None, event_time="2026-03-17T10:13:14.123456Z"
            ),
            # the new replica set's scale-up: not a deployment itself, but what makes the
            # scale-downs to 0 above a rollout's last step (stg_eks_deployments)
            eks_event(
                "env-eks-up",
                "uid-e",
                scaling_message("cart-api-7d4b9c8f6a", old=0, new=3, wording=1),
                at(10, 14),
            ),
            eks_event("env-eks-to1", "uid-f", down(1, new=1), at(10, 15)),
            eks_event("env-eks-to1b", "uid-g", down(2, new=1), at(10, 16)),
        ],
        name="a",
    )
    write_object(
        root,
        at(12),
        [
            duplicate,  # the same EventBridge event delivered twice
            eks_event("env-eks-resent", "uid-a", down(0), at(10), envelope_time=at(12)),  # re-sent
        ],
        name="b",
        compress=True,
    )
    write_object(root, at(0, day=NEXT_DAY), [late_lambda], name="late")
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(root)), conn, [DAY, NEXT_DAY], logging.getLogger("test"))
        sql.materialize_window(conn, "fct_deployments", DAY, NEXT_DAY)
    return duckdb.connect(warehouse.path, read_only=True)


def test_only_successful_deployments_count_once_each_at_their_own_time(landed):
    rows = landed.execute(
        "select deployment_id, deployed_at, day, resource_id from marts.fct_deployments"
    ).fetchall()
    found = {r[0]: r[1:] for r in rows}
    assert len(rows) == len(found), "a deployment was counted twice"
    assert found == {
        "lambda:ct-name": (at(10, 1), DAY, LAMBDA_ARN),
        "lambda:ct-arn": (at(10, 2), DAY, LAMBDA_ARN),
        "lambda:ct-partial": (at(10, 3), DAY, LAMBDA_ARN),
        "lambda:ct-late": (at(23, 59, 58), DAY, LAMBDA_ARN),
        "ecs:ecs-svc/1": (at(10, 6), DAY, SERVICE_ARN),
        "ecs:ecs-svc/4": (at(10, 9), DAY, SHORT_SERVICE_ARN),
        "eks:uid-a:1": (at(10), DAY, "eks-prod/checkout/cart-api"),
        "eks:uid-b:1": (at(10, 11), DAY, "eks-prod/checkout/cart-api"),
        "eks:uid-c:1": (at(10, 12), DAY, "eks-prod/checkout/cart-api"),
        "eks:uid-d:1": (
            datetime(2026, 3, 17, 10, 13, 14, 123456, tzinfo=UTC),
            DAY,
            "eks-prod/checkout/cart-api",
        ),
    }


def test_ownership_comes_from_labels_with_aliases_and_is_never_null(landed):
    rows = landed.execute(
        "select event_source, component_name, ownership_ba, ownership_pod, ownership_team, "
        "environment from marts.fct_deployments group by all order by all"
    ).fetchall()
    assert rows == [
        ("ecs", "ledger-api", *["unassigned"] * 4),
        ("ecs", "legacy-api", *["unassigned"] * 4),
        ("eks", "cart-api", "commerce", "checkout", "unassigned", "production"),
        ("lambda", "invoice-renderer", *["unassigned"] * 4),
    ]


def test_a_deployment_event_missing_its_identity_is_a_dead_letter(landed):
    rows = landed.execute(
        "select object_key, reason, raw_excerpt from ops.dead_letter_events"
    ).fetchall()
    assert [(key.endswith("-a"), reason) for key, reason, _ in rows] == [
        (True, "missing detail.deploymentId")
    ]
    assert "SERVICE_DEPLOYMENT_COMPLETED" in rows[0][2]


def test_noise_and_look_alikes_are_counted_not_kept_as_deployments(landed):
    (records,) = landed.execute("select sum(records) from ops.landed_objects").fetchone()
    assert records == 20
    counts = dict(
        landed.execute(
            "select detail_type, sum(events) from ops.object_event_counts group by all"
        ).fetchall()
    )
    assert counts == {
        "AWS API Call via CloudTrail": 6,
        "ECS Deployment State Change": 5,
        "Kubernetes Event": 9,
    }
