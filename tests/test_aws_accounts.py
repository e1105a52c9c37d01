"""Several AWS accounts, ECS blue/green through CodeDeploy and short ECS ARNs, over moto's
server (real HTTP) with IAM enforced: the tag role is assumed in every account seen in the
events; one account refuses it and only its deployments stay unassigned."""

import json
import re
import urllib.request
from datetime import UTC, date, datetime

import boto3
import dagster as dg
import duckdb
import pytest
from archive_helpers import codedeploy_event, write_object
from aws_estate import ROLE_TEMPLATE, account_session, create_deployment_group
from conftest import REGION

from dora4_generator.events import ecs_deployment_state_change, ecs_service_arn
from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.errors import ConfigError
from dora4_pipeline.settings import Settings

PAYMENTS, COMMERCE, REFUSING = "111111111111", "222222222222", "333333333333"
LOCKED = "444444444444"  # its role can be assumed but may not read tags
DAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)
READ_ANYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def ecs_completed(account: str, deployment_id: str, service_arn: str) -> dict:
    return ecs_deployment_state_change(
        envelope_id=f"env-{deployment_id}",
        envelope_time=NOON,
        service_arn=service_arn,
        event_name="SERVICE_DEPLOYMENT_COMPLETED",
        deployment_id=deployment_id,
        updated_at=NOON,
        account=account,
        region=REGION,
    )


def _tags(ba: str, pod: str) -> list[dict]:
    return [{"key": "Ownership.BA", "value": ba}, {"key": "Ownership.Pod", "value": pod}]


def _service(session, cluster: str, name: str, tags: list[dict]) -> str:
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=name, containerDefinitions=[{"name": "app", "image": f"{name}:1", "memory": 256}]
    )
    return ecs.create_service(
        cluster=cluster, serviceName=name, taskDefinition=name, desiredCount=1, tags=tags
    )["service"]["serviceArn"]


def _tag_reader(session, policy: dict = READ_ANYTHING) -> None:
    """The role dora4 assumes, created in the account itself (as each account's admin would)."""
    iam = session.client("iam")
    iam.create_role(
        RoleName="dora4-tag-reader",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    iam.put_role_policy(
        RoleName="dora4-tag-reader", PolicyName="read", PolicyDocument=json.dumps(policy)
    )


def _dora4_caller() -> dict[str, str]:
    """An IAM user allowed to assume the tag role in PAYMENTS and COMMERCE only."""
    iam = boto3.client("iam")
    iam.create_user(UserName="dora4")
    may_assume = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [ROLE_TEMPLATE.format(account=a) for a in (PAYMENTS, COMMERCE, LOCKED)],
            }
        ],
    }
    iam.put_user_policy(
        UserName="dora4", PolicyName="assume", PolicyDocument=json.dumps(may_assume)
    )
    key = iam.create_access_key(UserName="dora4")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


@pytest.fixture
def iam_enforced(aws):
    """moto checks signatures and IAM policies from the next request on; off again after."""

    def auth(count: str) -> None:
        request = urllib.request.Request(
            f"{aws}/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},  # else the body is read as a form
        )
        urllib.request.urlopen(request)

    yield lambda: auth("0")
    auth("inf")


def test_every_account_resolves_through_its_role_and_a_refusing_one_stays_unassigned(
    iam_enforced, tmp_path, monkeypatch
):
    payments, commerce = account_session(PAYMENTS, REGION), account_session(COMMERCE, REGION)
    for session in (payments, commerce):
        _tag_reader(session)
    only_identity = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
    }
    _tag_reader(account_session(LOCKED, REGION), only_identity)
    ledger = _service(payments, "payments", "ledger-api", _tags("payments", "ledger"))
    legacy_long = _service(payments, "logistics", "warehouse-legacy", _tags("logistics", "stock"))
    storefront = _service(commerce, "edge", "storefront", _tags("commerce", "checkout"))
    create_deployment_group(
        commerce,
        "AppECS-edge-storefront",
        "DgpECS-edge-storefront",
        {
            "computePlatform": "ECS",
            "ecsServices": [{"clusterName": "edge", "serviceName": "storefront"}],
        },
    )
    legacy_short = ecs_service_arn(
        service="warehouse-legacy", account=PAYMENTS, region=REGION, cluster=None
    )
    refusing = ecs_service_arn(
        service="reports", account=REFUSING, region=REGION, cluster="reports"
    )
    locked = ecs_service_arn(service="vault", account=LOCKED, region=REGION, cluster="vault")
    archive = tmp_path / "archive"
    write_object(
        archive,
        NOON,
        [
            ecs_completed(PAYMENTS, "ecs-svc/1", ledger),
            ecs_completed(PAYMENTS, "ecs-svc/2", legacy_short),  # pre-2021 short ARN
            codedeploy_event("cd-start", COMMERCE, "START", "d-STOREFRNT"),
            codedeploy_event("cd-success", COMMERCE, "SUCCESS", "d-STOREFRNT"),
            ecs_completed(REFUSING, "ecs-svc/3", refusing),
            codedeploy_event("cd-refused", REFUSING, "SUCCESS", "d-REFUSED01"),
            ecs_completed(LOCKED, "ecs-svc/4", locked),
        ],
        name="a",
    )
    caller = _dora4_caller()
    for name, value in caller.items():
        monkeypatch.setenv(name, value)
    iam_enforced()
    settings = Settings(
        archive_uri=str(archive),
        warehouse=str(tmp_path / "w.duckdb"),
        partitions_start="2026-03-01",
        tag_role_arn=ROLE_TEMPLATE,
        tag_regions=(REGION,),
    )
    defs = build_definitions(settings)
    with dg.instance_for_test() as instance:

        def materialize():
            result = dg.materialize(
                [*defs.assets, *defs.asset_checks],
                instance=instance,
                partition_key=DAY.isoformat(),
                resources=defs.resources,
            )
            assert result.success
            return result

        result = materialize()
        messages = [e.message for e in instance.all_logs(result.run_id) if e.message]
        with duckdb.connect(settings.warehouse, read_only=True) as conn:
            first = conn.execute(
                "select deployment_id, resource_id, ownership_ba, ownership_pod "
                "from marts.fct_deployments order by all"
            ).fetchall()
        materialize()  # a rerun changes nothing
        with duckdb.connect(settings.warehouse, read_only=True) as conn:
            again = conn.execute(
                "select deployment_id, resource_id, ownership_ba, ownership_pod "
                "from marts.fct_deployments order by all"
            ).fetchall()
            unreachable = conn.execute(
                "select distinct account, role_arn, reason from ops.tag_snapshot_unreachable "
                "order by account"
            ).fetchall()
            near_misses = conn.execute(
                "select near_miss_kind, deployment_id, resource_id "
                "from staging.stg_codedeploy_near_misses"
            ).fetchall()
            (group_problem,) = conn.execute(
                "select problem from raw.codedeploy_deployment_groups where account = ?",
                [REFUSING],
            ).fetchone()

    assert (
        first
        == again
        == [
            ("codedeploy:d-STOREFRNT", storefront, "commerce", "checkout"),
            ("ecs:ecs-svc/1", ledger, "payments", "ledger"),
            ("ecs:ecs-svc/2", legacy_long, "logistics", "stock"),  # short ARN: one history
            ("ecs:ecs-svc/3", refusing, "unassigned", "unassigned"),
            ("ecs:ecs-svc/4", locked, "unassigned", "unassigned"),
        ]
    )
    role = ROLE_TEMPLATE.format(account=REFUSING)
    assert [(account, arn) for account, arn, _ in unreachable] == [
        (REFUSING, role),
        (LOCKED, ROLE_TEMPLATE.format(account=LOCKED)),  # assumed, but GetResources refused
    ]
    assert "cannot assume" in unreachable[0][2] and "AccessDenied" in unreachable[0][2]
    assert "tag:GetResources was refused" in unreachable[1][2]
    assert any(REFUSING in m and role in m for m in messages), "a warning names account and role"
    assert near_misses == [
        (
            "codedeploy_group_unresolved",
            "codedeploy:d-REFUSED01",
            f"arn:aws:codedeploy:{REGION}:{REFUSING}:deploymentgroup:"
            "AppECS-edge-storefront/DgpECS-edge-storefront",
        )
    ]
    assert REFUSING in group_problem and "AccessDenied" in group_problem


def test_the_multi_account_settings_are_read_and_checked():
    settings = Settings.from_env(
        {
            "DORA4_TAG_ROLE_ARN": ROLE_TEMPLATE,
            "DORA4_TAG_ACCOUNTS": f"{PAYMENTS}, {COMMERCE}",
            "DORA4_TAG_REGIONS": "eu-west-1,us-east-1",
        }
    )
    assert settings.tag_role_arn == ROLE_TEMPLATE
    assert settings.tag_accounts == (PAYMENTS, COMMERCE)
    assert settings.tag_regions == ("eu-west-1", "us-east-1")
    for env, message in (
        ({"DORA4_TAG_ROLE_ARN": "arn:aws:iam::1:role/x"}, "{account}"),
        ({"DORA4_TAG_ROLE_ARN": ROLE_TEMPLATE, "DORA4_TAG_ACCOUNTS": "12"}, "12-digit"),
        ({"DORA4_TAG_ACCOUNTS": PAYMENTS}, "needs DORA4_TAG_ROLE_ARN"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            Settings.from_env(env)
