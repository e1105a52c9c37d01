"""CodeDeploy blue/green: which state-change notifications are ECS deployments, which are
near misses and which are dead letters; hand-built events through the real landing, the
deployment-group step (tags-file mode) and the SQL models on a DuckDB file."""

import json
import logging
from datetime import UTC, date, datetime

import duckdb
import pytest
from archive_helpers import codedeploy_event, write_object

from dora4_pipeline import sql
from dora4_pipeline.landing.codedeploy import resolve_deployment_groups
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.tagging import TaggingResource
from dora4_pipeline.resources.warehouse import WarehouseResource

ACCOUNT, REGION = "222222222222", "eu-west-1"
DAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)
GROUP_ARN = (
    f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:"
    "AppECS-edge-storefront/DgpECS-edge-storefront"
)
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/edge/storefront"


def _other_group(event: dict, application: str, group: str) -> dict:
    event["detail"].update(application=application, deploymentGroup=group)
    event["resources"][1] = event["resources"][1].rsplit(":", 1)[0] + f":{application}/{group}"
    return event


@pytest.fixture
def landed(tmp_path):
    tags = {
        SERVICE: {"Ownership.BA": "commerce", "Ownership.Pod": "checkout"},
        GROUP_ARN: {
            "computePlatform": "ECS",
            "ecsServices": [{"clusterName": "edge", "serviceName": "storefront"}],
        },
        GROUP_ARN.replace("AppECS-edge-storefront/DgpECS-edge-storefront", "hosts/hosts-prod"): {
            "computePlatform": "Server",
            "ecsServices": [],
        },
    }
    (tmp_path / "tags.json").write_text(json.dumps(tags))
    broken = codedeploy_event("cd-broken", ACCOUNT, "SUCCESS", "d-BROKEN001")
    del broken["detail"]["deploymentId"]
    events = [
        codedeploy_event("cd-start", ACCOUNT, "START", "d-ONE000001"),
        codedeploy_event("cd-one", ACCOUNT, "SUCCESS", "d-ONE000001"),
        codedeploy_event("cd-failed", ACCOUNT, "FAILURE", "d-TWO000002"),
        _other_group(
            codedeploy_event("cd-srv", ACCOUNT, "SUCCESS", "d-SRV000003"), "hosts", "hosts-prod"
        ),  # fmt: skip
        _other_group(
            codedeploy_event("cd-gone", ACCOUNT, "SUCCESS", "d-GONE00004"), "gone", "gone-prod"
        ),  # fmt: skip
        broken,
    ]
    root = tmp_path / "archive"
    write_object(root, NOON, events, name="a")
    write_object(root, NOON.replace(hour=13), events[1:2], name="b")  # delivered twice
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    tagging = TaggingResource(tags_file=str(tmp_path / "tags.json"))
    log = logging.getLogger("test")
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(root)), conn, [DAY], log)
    resolve_deployment_groups(tagging, tagging.sessions(), warehouse, log)
    with warehouse.connect() as conn:
        conn.execute(
            "insert into raw.resource_tag_snapshots values (?, ?, ?, now())",
            [DAY, SERVICE, json.dumps(tags[SERVICE])],
        )
        conn.execute("insert into ops.tag_snapshot_days values (?, now(), 'test', 1)", [DAY])
        sql.materialize_window(conn, "fct_deployments", DAY, DAY)
    return duckdb.connect(warehouse.path, read_only=True)


def test_a_success_of_an_ecs_group_is_one_deployment_of_its_service_with_its_tags(landed):
    assert landed.execute(
        "select deployment_id, deployed_at, event_source, component_type, resource_id, "
        "component_name, ownership_ba, ownership_pod from marts.fct_deployments"
    ).fetchall() == [
        (
            "codedeploy:d-ONE000001",
            NOON.replace(minute=30, second=5),  # the envelope time: the detail has none
            "ecs",
            "ecs_service",
            SERVICE,
            "storefront",
            "commerce",
            "checkout",
        )
    ]


def test_other_groups_are_near_misses_and_a_broken_success_a_dead_letter(landed):
    assert landed.execute(
        "select near_miss_kind, deployment_id, day from staging.stg_codedeploy_near_misses "
        "order by all"
    ).fetchall() == [
        ("codedeploy_group_unresolved", "codedeploy:d-GONE00004", DAY),
        ("codedeploy_not_ecs", "codedeploy:d-SRV000003", DAY),
    ]
    assert landed.execute(
        "select problem from raw.codedeploy_deployment_groups where application = 'gone'"
    ).fetchall() == [("deployment group not in DORA4_TAGS_FILE",)]
    assert landed.execute("select reason from ops.dead_letter_events").fetchall() == [
        ("missing detail.deploymentId",)
    ]
