"""How GitLab and Opsgenie events really reach the bus: relays, big pushes, partner sources.

- GitLab has no EventBridge integration (gitlab-org/gitlab#357413): a relay puts each hook
  on the bus, and relays differ. `relayed_push` renders a push as one of `RELAYS`:
  `direct` (detail = the hook body, detail-type = X-Gitlab-Event), `own_detail_type` (the
  body, under the relay's own detail-type), `api_gateway_rest` (a Lambda behind an API
  Gateway REST API forwards its proxy event: `body` a JSON string beside `headers`),
  `api_gateway_http` (HTTP API payload 2.0: lowercased headers, the body base64-encoded).
  The shapes are API Gateway's Lambda proxy input formats (AWS API Gateway developer guide,
  "Lambda proxy integrations": payload formats 1.0 and 2.0) around GitLab's webhook request
  (its headers: X-Gitlab-Event, X-Gitlab-Instance, X-Gitlab-Webhook-UUID,
  X-Gitlab-Event-UUID; GitLab's secret X-Gitlab-Token is dropped by the relay).
- Pushes of more than 20 commits: the hook lists the newest 20 and `total_commits_count`
  (GitLab's Gitlab::DataBuilder::Push); `gitlab_compare` answers what GitLab's compare API
  would for the push (id, committed_date, ...), for the tests' stand-in of GitLab.
- Opsgenie is an EventBridge partner: `aws.partner/opsgenie.com/<org>/<integration>`, one
  source per integration; `opsgenie_source` spreads alerts over several integrations and the
  `opsgenie` webhook relay, and one integration sends the times as strings.
"""

from __future__ import annotations

import base64
import json
from random import Random

from dora4_generator.webhooks import gitlab_push, opsgenie_alert

RELAYS = ("direct", "own_detail_type", "api_gateway_rest", "api_gateway_http")
HOOK_COMMITS = 20  # GitLab's push hook lists at most this many (the newest)
OPSGENIE_ORG = "acme-ops"
OPSGENIE_INTEGRATIONS = ("eventbridge-payments", "eventbridge-commerce", "eventbridge-platform")
_STRING_TIMES = OPSGENIE_INTEGRATIONS[2]  # this integration sends createdAt/updatedAt as strings


def relay_of(envelope_id: str) -> str:
    """Which relay carried a push: fixed by its id, so the scenario's RNG is not disturbed."""
    return Random(envelope_id).choice(RELAYS)


def relayed_push(*, relay: str, **kwargs) -> dict:
    """A `gitlab_push` as `relay` puts it on the bus; at most 20 commits in the body."""
    event = gitlab_push(**kwargs)
    body = event["detail"]
    if len(body["commits"]) > HOOK_COMMITS:
        body["commits"] = body["commits"][-HOOK_COMMITS:]  # total_commits_count keeps them all
    if relay == "direct":
        return event
    if relay == "own_detail_type":
        return event | {"detail-type": "GitLab Webhook Received"}
    headers = _gitlab_headers(event["id"], kwargs["path_with_namespace"])
    text = json.dumps(body, separators=(",", ":"))
    if relay == "api_gateway_rest":
        detail = _rest_proxy_event(event, headers, text)
        return event | {"detail-type": "Webhook Request", "detail": detail}
    detail = _http_proxy_event(event, headers, text)
    return event | {"detail-type": "webhook", "detail": detail}


def _gitlab_headers(envelope_id: str, path: str) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitLab/17.6.1",
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Instance": "https://gitlab.example.com",
        "X-Gitlab-Webhook-UUID": "0e7ac9b7-1a54-4a6a-b4b6-9f1b3d3e7c21",
        "X-Gitlab-Event-UUID": envelope_id,
        "X-Forwarded-For": "203.0.113.10",
    }


def _rest_proxy_event(event: dict, headers: dict, body: str) -> dict:
    """API Gateway REST API, Lambda proxy input (payload format 1.0)."""
    return {
        "resource": "/gitlab",
        "path": "/gitlab",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": event["account"],
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
            "httpMethod": "POST",
            "path": "/prod/gitlab",
            "protocol": "HTTP/1.1",
            "requestId": event["id"],
            "resourcePath": "/gitlab",
            "stage": "prod",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": headers["User-Agent"]},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _http_proxy_event(event: dict, headers: dict, body: str) -> dict:
    """API Gateway HTTP API, Lambda proxy input (payload format 2.0): header names
    lowercased, a body API Gateway did not take for text base64-encoded."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return {
        "version": "2.0",
        "routeKey": "POST /gitlab",
        "rawPath": "/gitlab",
        "rawQueryString": "",
        "headers": lowered,
        "requestContext": {
            "accountId": event["account"],
            "apiId": "f6g7h8i9j0",
            "domainName": "f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com",
            "http": {
                "method": "POST",
                "path": "/gitlab",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": lowered["user-agent"],
            },
            "requestId": event["id"],
            "routeKey": "POST /gitlab",
            "stage": "$default",
        },
        "body": base64.b64encode(body.encode()).decode(),
        "isBase64Encoded": True,
    }


def gitlab_compare(commits: list[dict]) -> list[dict]:
    """GitLab's compare answer's `commits` for a push's commits (oldest first)."""
    return [
        {
            "id": c["id"],
            "short_id": c["id"][:8],
            "created_at": c["timestamp"],
            "parent_ids": [],
            "title": c.get("message", "Change"),
            "message": c.get("message", "Change"),
            "author_name": "Dev Eloper",
            "author_email": "dev@example.com",
            "authored_date": c["timestamp"],
            "committer_name": "Dev Eloper",
            "committer_email": "dev@example.com",
            "committed_date": c["timestamp"],
        }
        for c in commits
    ]


def opsgenie_source(alert_id: str) -> str:
    """The source of an alert's events: the `opsgenie` relay or one partner integration."""
    choice = Random(alert_id).randrange(len(OPSGENIE_INTEGRATIONS) + 1)
    if choice == len(OPSGENIE_INTEGRATIONS):
        return "opsgenie"
    return f"aws.partner/opsgenie.com/{OPSGENIE_ORG}/{OPSGENIE_INTEGRATIONS[choice]}"


def partner_alert(**kwargs) -> dict:
    """An `opsgenie_alert` under its alert's source; a partner event names its integration."""
    event = opsgenie_alert(**kwargs)
    source = opsgenie_source(kwargs["alert_id"])
    if source == "opsgenie":
        return event
    integration = source.rsplit("/", 1)[-1]
    detail = event["detail"] | {"integrationName": integration, "integrationType": "EventBridge"}
    if integration == _STRING_TIMES:
        alert = detail["alert"]
        detail["alert"] = alert | {k: str(alert[k]) for k in ("createdAt", "updatedAt")}
    return event | {"source": source, "detail": detail}
