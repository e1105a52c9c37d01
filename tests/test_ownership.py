"""Ownership by tag and the daily frequency: exact counts per BA, pod, team and environment,
from a tags file and from moto's Tagging API over HTTP, with ownership history."""

import io
import json
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import boto3
import dagster as dg
import duckdb
from archive_helpers import write_object
from conftest import ARCHIVE_DAYS, ARCHIVE_START, REGION

from dora4_generator.events import (
    ecs_deployment_state_change,
    lambda_update_function_code,
)
from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.cli import main
from dora4_pipeline.settings import Settings, analyst_copy_path

GROUP = ("ownership_ba", "ownership_pod", "ownership_team", "environment", "event_source")
MOTO_ACCOUNT = "123456789012"
DAY1, DAY2, DAY3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


def test_counts_per_day_ba_pod_team_environment_match_truth_zero_days_included(
    generated, truth, tmp_path, monkeypatch, capsys
):
    warehouse = tmp_path / "dora4.duckdb"
    monkeypatch.setenv("DORA4_ARCHIVE_URI", str(generated / "archive"))
    monkeypatch.setenv("DORA4_TAGS_FILE", str(generated / "tags.json"))
    monkeypatch.setenv("DORA4_WAREHOUSE", str(warehouse))
    last = ARCHIVE_START + timedelta(days=ARCHIVE_DAYS - 1)
    assert main(["run", "--start", str(ARCHIVE_START), "--end", str(last)]) == 0

    expected = Counter((d["day"], *(d[c] for c in GROUP)) for d in truth["deployments"])
    assert any("unassigned" in key for key in expected), "truth holds untagged resources"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            f"select day, {', '.join(GROUP)}, sum(deployments) "  # noqa: S608
            "from marts.deployment_frequency_daily group by all"
        ).fetchall()
        groups, days = conn.execute(
            "select count(distinct (ownership_ba, ownership_pod, ownership_team, environment, "
            "component_name, event_source)), count(distinct day) "
            "from marts.deployment_frequency_daily"
        ).fetchone()
        (rows_total,) = conn.execute(
            "select count(*) from marts.deployment_frequency_daily"
        ).fetchone()
        near_misses = conn.execute(
            "select deployment_id, near_miss_kind, day::varchar, resource_id "
            "from staging.stg_codedeploy_near_misses"
        ).fetchall()
    assert sorted(near_misses) == sorted(
        (r["deployment_id"], r["near_miss_kind"], r["day"], r["resource_id"])
        for r in truth["codedeploy_near_misses"]
    )
    assert {kind for _, kind, _, _ in near_misses} == {
        "codedeploy_group_unresolved",
        "codedeploy_not_ecs",
    }
    found = Counter({(d.isoformat(), *group): n for d, *group, n in rows if n})
    assert found == expected
    assert rows_total == groups * days == groups * ARCHIVE_DAYS, "zero-filled"

    capsys.readouterr()
    assert main(["report", "--start", str(ARCHIVE_START), "--end", str(last), "--by", "team"]) == 0
    printed = capsys.readouterr().out
    busiest = Counter(
        (d["ownership_ba"], d["ownership_pod"], d["ownership_team"]) for d in truth["deployments"]
    ).most_common(1)[0]
    assert f"| {' | '.join(busiest[0])} |" in printed


def _lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def _create_tagged_resources() -> tuple[str, str]:
    """In moto over HTTP: a tagged and an untagged Lambda function, a tagged ECS service."""
    role = boto3.client("iam").create_role(
        RoleName="lambda-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    lam = boto3.client("lambda")
    common = {
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "handler.handler",
        "Code": {"ZipFile": _lambda_zip()},
    }
    function_arn = lam.create_function(
        FunctionName="invoice-renderer",
        Tags={
            "Ownership.BA": "payments",
            "Ownership.Pod": "billing",
            "Ownership.Team": "invoicing",
            "Environment": "production",
        },
        **common,
    )["FunctionArn"]
    lam.create_function(FunctionName="untagged-fn", **common)
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="payments")
    ecs.register_task_definition(
        family="ledger", containerDefinitions=[{"name": "app", "image": "ledger:1", "memory": 256}]
    )
    service_arn = ecs.create_service(
        cluster="payments",
        serviceName="ledger-api",
        taskDefinition="ledger",
        desiredCount=1,
        tags=[
            {"key": "ownership.ba", "value": "payments"},  # the lowercase alias
            {"key": "Ownership.Pod", "value": "ledger"},
            {"key": "Environment", "value": "production"},
        ],
    )["service"]["serviceArn"]
    return function_arn, service_arn


def _lambda(event_id: str, when: datetime, form: str, name: str = "invoice-renderer") -> dict:
    return lambda_update_function_code(
        event_id=event_id,
        event_time=when,
        function_name_form=form,
        function_name=name,
        account=MOTO_ACCOUNT,
        region=REGION,
        publish=form != "arn",
        version=5,
    )


def _ecs(deployment_id: str, when: datetime, service_arn: str) -> dict:
    return ecs_deployment_state_change(
        envelope_id=f"env-{deployment_id}",
        envelope_time=when,
        service_arn=service_arn,
        event_name="SERVICE_DEPLOYMENT_COMPLETED",
        deployment_id=deployment_id,
        updated_at=when,
        account=MOTO_ACCOUNT,
        region=REGION,
    )


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_tagging_api_attributes_each_day_with_the_tags_it_had(aws, tmp_path):
    function_arn, service_arn = _create_tagged_resources()
    assert function_arn.endswith(":function:invoice-renderer")
    archive = tmp_path / "archive"
    write_object(
        archive,
        _noon(DAY1),
        [
            _lambda("ct-1", _noon(DAY1), "name"),
            _lambda("ct-2", _noon(DAY1), "arn"),  # publish=False, unqualified ARN
            _lambda("ct-3", _noon(DAY1), "partial_arn"),  # version-qualified response ARN
            _lambda("ct-4", _noon(DAY1), "name", name="untagged-fn"),
            _ecs("ecs-svc/1", _noon(DAY1), service_arn),
        ],
        name="d1",
    )
    write_object(archive, _noon(DAY2), [_lambda("ct-5", _noon(DAY2), "name")], name="d2")
    write_object(
        archive,
        _noon(DAY3),
        [
            _lambda("ct-6", _noon(DAY3), "arn"),
            _ecs("ecs-svc/2", _noon(DAY3), service_arn),
        ],
        name="d3",
    )
    settings = Settings(
        archive_uri=str(archive),
        warehouse=str(tmp_path / "w.duckdb"),
        partitions_start="2026-03-01",
    )
    defs = build_definitions(settings)

    def materialize(day: date) -> None:
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks],
            instance=instance,
            partition_key=day.isoformat(),
            resources=defs.resources,
        )
        assert result.success

    def owners() -> list[tuple]:
        with duckdb.connect(settings.warehouse, read_only=True) as conn:
            return conn.execute(
                "select day, event_source, component_name, ownership_ba, ownership_pod, "
                "ownership_team, environment, deployments "
                "from marts.deployment_frequency_daily order by all"
            ).fetchall()

    with dg.instance_for_test() as instance:
        materialize(DAY1)
        materialize(DAY2)
        boto3.client("lambda").tag_resource(
            Resource=function_arn, Tags={"Ownership.Pod": "documents"}
        )  # the function moves to another pod
        materialize(DAY3)
        before_rerun = owners()
        materialize(DAY2)  # rerun after the tags changed: history is kept
        assert [r for r in owners() if r[-1]] == [r for r in before_rerun if r[-1]]

    billing = ("payments", "billing", "invoicing", "production")
    documents = ("payments", "documents", "invoicing", "production")
    ledger = ("payments", "ledger", "unassigned", "production")
    untagged = ("unassigned",) * 4
    assert [r for r in before_rerun if r[0] == DAY3] == [
        (DAY3, "ecs", "ledger-api", *ledger, 1),
        (DAY3, "lambda", "invoice-renderer", *billing, 0),
        (DAY3, "lambda", "invoice-renderer", *documents, 1),
        (DAY3, "lambda", "untagged-fn", *untagged, 0),
    ]
    assert [r for r in before_rerun if r[0] == DAY2 and r[-1]] == [
        (DAY2, "lambda", "invoice-renderer", *billing, 1)
    ]
    assert [r for r in before_rerun if r[0] == DAY1 and r[-1]] == [
        (DAY1, "ecs", "ledger-api", *ledger, 1),
        (DAY1, "lambda", "invoice-renderer", *billing, 3),
        (DAY1, "lambda", "untagged-fn", *untagged, 1),
    ]
    assert (DAY2, "ecs", "ledger-api", *ledger, 0) in before_rerun  # a zero day


def test_an_analyst_holding_the_analytics_copy_open_does_not_stop_a_run(
    generated, tmp_path, monkeypatch
):
    warehouse = tmp_path / "dora4.duckdb"
    monkeypatch.setenv("DORA4_ARCHIVE_URI", str(generated / "archive"))
    monkeypatch.setenv("DORA4_TAGS_FILE", str(generated / "tags.json"))
    monkeypatch.setenv("DORA4_WAREHOUSE", str(warehouse))
    day = str(ARCHIVE_START)
    assert main(["run", "--start", day, "--end", day]) == 0
    analyst = duckdb.connect(str(analyst_copy_path(str(warehouse))), read_only=True)
    try:
        (before,) = analyst.execute("select count(*) from marts.fct_deployments").fetchone()
        last = str(ARCHIVE_START + timedelta(days=1))
        assert main(["run", "--start", day, "--end", last]) == 0
        (still,) = analyst.execute("select count(*) from marts.fct_deployments").fetchone()
        assert still == before  # the open connection keeps the version it opened
    finally:
        analyst.close()
    with duckdb.connect(str(analyst_copy_path(str(warehouse))), read_only=True) as fresh:
        (after,) = fresh.execute("select count(*) from marts.fct_deployments").fetchone()
    assert after > before
