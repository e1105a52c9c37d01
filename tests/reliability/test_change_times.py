"""Change times far from their delivery are dead letters, not deployments (issue 12,
item 7).

Before, a deployment dated 1970 or 2100 was accepted, yet no day a run materializes could
ever hold it: counted nowhere, reported nowhere. Now a change time more than
DORA4_MAX_CHANGE_AGE_DAYS before its delivery, or more than DORA4_MAX_CHANGE_AHEAD_DAYS
after its delivery hour, is a dead letter with that reason. The events are hand-built in
the emitters' shapes (dora4_generator/events.py: CloudTrail's UpdateFunctionCode20150331v2, ECS's
"ECS Deployment State Change", kubernetes-event-exporter's ScalingReplicaSet event), and
each carries its own time in the field the rules read (eventTime, updatedAt, lastTimestamp).
"""

import logging
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from archive_helpers import write_object

from dora4_generator.events import (
    ecs_deployment_state_change,
    ecs_service_arn,
    eks_scaling_replica_set,
    lambda_update_function_code,
    scaling_message,
)
from dora4_pipeline import sql
from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.errors import ConfigError
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.settings import Settings

ACCOUNT, REGION = "444455556666", "eu-west-1"
DELIVERED = datetime(2026, 3, 17, 10, tzinfo=UTC)
DAY = DELIVERED.date()
Y1970 = datetime(1970, 1, 1, tzinfo=UTC)
Y2100 = datetime(2100, 1, 1, tzinfo=UTC)
SERVICE = ecs_service_arn(service="ledger-api", account=ACCOUNT, region=REGION, cluster="pay")


def lambda_at(event_id: str, when: datetime) -> dict:
    return lambda_update_function_code(
        event_id=event_id,
        event_time=when,
        function_name_form="name",
        function_name="invoice-renderer",
        account=ACCOUNT,
        region=REGION,
        publish=True,
        envelope_time=DELIVERED,
    )


def ecs_at(deployment_id: str, name: str, when: datetime) -> dict:
    return ecs_deployment_state_change(
        envelope_id=f"env-{deployment_id}",
        envelope_time=DELIVERED,
        service_arn=SERVICE,
        event_name=name,
        deployment_id=deployment_id,
        updated_at=when,
        account=ACCOUNT,
        region=REGION,
    )


def eks_at(
    uid: str, when: datetime, replica_set: str = "cart-api-5f9c7d6b8d", up: bool = False
) -> dict:
    """The old replica set's scale-down to 0 (or, `up`, the new one's scale-up): a rollout
    needs both (docs/sources-kubernetes.md)."""
    return eks_scaling_replica_set(
        envelope_id=f"env-{uid}",
        envelope_time=DELIVERED,
        account=ACCOUNT,
        region=REGION,
        cluster_name="eks-prod",
        namespace="checkout",
        deployment="cart-api",
        uid=uid,
        message=scaling_message(replica_set, old=0 if up else 3, new=3 if up else 0, wording=2),
        last_timestamp=when,
        labels={},
    )


EVENTS = [
    lambda_at("ct-1970", Y1970),
    lambda_at("ct-2100", Y2100),
    ecs_at("ecs-svc/2100", "SERVICE_DEPLOYMENT_COMPLETED", Y2100),
    ecs_at("ecs-svc/failed-1970", "SERVICE_DEPLOYMENT_FAILED", Y1970 + timedelta(days=400)),
    eks_at("uid-2100", Y2100),
    lambda_at("ct-10-days-old", DELIVERED - timedelta(days=10)),
    lambda_at("ct-2-days-ahead", DELIVERED + timedelta(days=2)),
    # plausible: delivered 3 days late, and a clock 20 minutes fast
    lambda_at("ct-3-days-late", DELIVERED - timedelta(days=3)),
    ecs_at("ecs-svc/fast-clock", "SERVICE_DEPLOYMENT_COMPLETED", DELIVERED + timedelta(minutes=80)),
    eks_at("uid-on-time", DELIVERED - timedelta(minutes=1)),
    eks_at("uid-on-time-up", DELIVERED - timedelta(minutes=3), "cart-api-7d4b9c8f6", up=True),
    eks_at("uid-2100-up", Y2100 - timedelta(minutes=2), "cart-api-7d4b9c8f6", up=True),
]


def land(tmp_path, warehouse: WarehouseResource) -> tuple[set[str], list[tuple[str, str]]]:
    """The deployments counted over every day, and the dead letters (reason, excerpt)."""
    root = tmp_path / "archive"
    if not root.exists():
        write_object(root, DELIVERED, EVENTS, name="times")
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(root)), conn, [DAY], logging.getLogger("test"))
        sql.materialize_window(conn, "fct_deployments", date(1970, 1, 1), date(2100, 12, 31))
        counted = {
            r[0] for r in conn.execute("select deployment_id from marts.fct_deployments").fetchall()
        }
        letters = conn.execute("select reason, raw_excerpt from ops.dead_letter_events").fetchall()
    return counted, letters


def test_deployments_dated_1970_or_2100_are_dead_letters_with_the_reason(tmp_path):
    counted, letters = land(tmp_path, WarehouseResource(path=str(tmp_path / "w.duckdb")))
    assert counted == {"lambda:ct-3-days-late", "ecs:ecs-svc/fast-clock", "eks:uid-on-time:1"}
    before = "days before its delivery 2026-03-17T10:00:00Z (DORA4_MAX_CHANGE_AGE_DAYS)"
    after = "days after its delivery 2026-03-17T10:00:00Z (DORA4_MAX_CHANGE_AHEAD_DAYS)"
    expected = Counter(
        {
            f"change time 1970-01-01T00:00:00Z is more than 7 {before}": 1,  # Lambda
            f"change time 1971-02-05T00:00:00Z is more than 7 {before}": 1,  # ECS failure
            f"change time 2026-03-07T10:00:00Z is more than 7 {before}": 1,  # 10 days old
            f"change time 2100-01-01T00:00:00Z is more than 1 {after}": 3,  # Lambda, ECS, EKS
            f"change time 2026-03-19T10:00:00Z is more than 1 {after}": 1,  # 2 days ahead
        }
    )
    assert Counter(reason for reason, _ in letters) == expected


def test_the_window_is_configurable(tmp_path):
    wide = WarehouseResource(
        path=str(tmp_path / "w.duckdb"), max_change_age_days=30, max_change_ahead_days=3
    )
    counted, _ = land(tmp_path, wide)
    assert {"lambda:ct-10-days-old", "lambda:ct-2-days-ahead"} <= counted
    assert "lambda:ct-1970" not in counted


def test_the_window_settings_are_checked_and_follow_the_lateness_window():
    settings = Settings.from_env(
        {"DORA4_MAX_CHANGE_AGE_DAYS": "30", "DORA4_MAX_CHANGE_AHEAD_DAYS": "0"}
    )
    warehouse = build_definitions(settings).resources["warehouse"]
    assert (warehouse.max_change_age_days, warehouse.max_change_ahead_days) == (30, 0)
    assert Settings.from_env({}).change_age_days == 7
    # a lateness window longer than the default: the default follows it
    assert Settings.from_env({"DORA4_LATENESS_HOURS": "240"}).change_age_days == 11
    with pytest.raises(ConfigError, match="DORA4_MAX_CHANGE_AGE_DAYS.*at least 11"):
        Settings.from_env({"DORA4_LATENESS_HOURS": "240", "DORA4_MAX_CHANGE_AGE_DAYS": "7"})
    for name, value in [
        ("DORA4_MAX_CHANGE_AGE_DAYS", "0"),
        ("DORA4_MAX_CHANGE_AGE_DAYS", "a week"),
        ("DORA4_MAX_CHANGE_AHEAD_DAYS", "-1"),
        ("DORA4_MAX_CHANGE_AHEAD_DAYS", "400"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})
