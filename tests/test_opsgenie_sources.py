"""Opsgenie's alerts as its EventBridge partner integrations send them: one source per
integration, several at once, matched by the configured prefix. Hand-written events through
the real landing and SQL."""

import logging
from datetime import UTC, date, datetime

import duckdb
from archive_helpers import write_object

from dora4_pipeline import sql
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource

DAY = date(2026, 3, 17)
CREATED_MS = 1773748800123  # 2026-03-17T12:00:00.123Z
CLOSED_NS = 1773752400456000000  # 2026-03-17T13:00:00.456Z


def partner_event(event_id: str, integration: str, action: str, alert_id: str, **alert) -> dict:
    """An alert event from an Opsgenie EventBridge integration: source
    `aws.partner/opsgenie.com/<org>/<integration>` (the partner event source the integration
    creates in the AWS account; one per integration), detail = Opsgenie's alert webhook body
    (docs.opsgenie.com, "Webhook Integration": action, alert{alertId, message, tags, tinyId,
    entity, alias, createdAt, updatedAt, username, userId, description, details, priority,
    source}, source{name, type}, integrationName, integrationId, integrationType).
    The detail-type is the partner's choice and is not read."""
    return {
        "version": "0", "id": event_id, "detail-type": "Alert Event",
        "source": f"aws.partner/opsgenie.com/acme-ops/{integration}",
        "account": "444455556666", "time": "2026-03-17T13:00:01Z", "region": "eu-west-1",
        "resources": [],
        "detail": {
            "action": action,
            "alert": {
                "alertId": alert_id, "message": "Checkout p99 above 2s", "tags": ["prod"],
                "tinyId": "1791", "entity": "checkout", "alias": f"{alert_id}-alias",
                "createdAt": CREATED_MS, "updatedAt": CLOSED_NS, "username": "System",
                "userId": "", "description": "", "details": {"Component.Name": "cart-api"},
                "priority": "P1", "source": "datadog", **alert,
            },
            "source": {"name": "", "type": "API"},
            "integrationName": integration,
            "integrationId": "8418d193-2dab-4490-b331-8c02cdd196b7",
            "integrationType": "EventBridge",
        },
    }  # fmt: skip


def test_alerts_of_two_integrations_are_incidents_and_other_partners_are_not(tmp_path):
    root = tmp_path / "archive"
    events = [
        partner_event("og-1", "payments", "Create", "a1"),
        partner_event("og-2", "payments", "Close", "a1"),
        # another integration sends its times as JSON strings
        partner_event("og-3", "commerce", "Create", "a2", createdAt=str(CREATED_MS)),
        partner_event("og-4", "commerce", "Close", "a2", updatedAt=str(CLOSED_NS)),
        partner_event("og-5", "commerce", "Create", "a3", priority="P3"),  # not a failure
    ]
    stranger = partner_event("og-6", "payments", "Create", "a4")
    stranger["source"] = "aws.partner/pagerduty.com/acme/alerts"
    not_an_alert = partner_event("og-7", "payments", "Create", "a5")
    not_an_alert["detail"] = {"integrationName": "payments", "heartbeat": "ok"}
    write_object(root, datetime(2026, 3, 17, 13, 5, tzinfo=UTC), [*events, stranger, not_an_alert],
                 name="og")  # fmt: skip
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))  # default sources
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(root)), conn, [DAY], logging.getLogger("test"))
        sql.materialize_window(conn, "fct_failures", DAY, DAY)
    with duckdb.connect(warehouse.path, read_only=True) as conn:
        failures = conn.execute(
            "select failure_id, started_at, resolved_at from marts.fct_failures order by 1"
        ).fetchall()
        integrations = conn.execute(
            "select distinct integration from staging.stg_opsgenie_alerts order by 1"
        ).fetchall()
        dead = conn.execute("select count(*) from ops.dead_letter_events").fetchone()
    started = datetime(2026, 3, 17, 12, 0, 0, 123000, tzinfo=UTC)
    resolved = datetime(2026, 3, 17, 13, 0, 0, 456000, tzinfo=UTC)
    assert failures == [("opsgenie:a1", started, resolved), ("opsgenie:a2", started, resolved)]
    assert integrations == [("acme-ops/commerce",), ("acme-ops/payments",)]
    assert dead == (0,)
