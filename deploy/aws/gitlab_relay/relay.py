"""GitLab push webhooks into EventBridge: a Lambda function behind a function URL.

GitLab has no EventBridge integration (gitlab-org/gitlab#357413), so a group webhook posts
here. The relay checks GitLab's `X-Gitlab-Token` against the secret in Secrets Manager in
constant time, refuses anything that is not a push hook, and puts the hook body into
EventBridge unchanged: source `gitlab` (SOURCE), detail-type = the `X-Gitlab-Event` header
(`Push Hook`), detail = the body. That is the shape dora4_pipeline reads
(dbt_like_sql/staging/stg_gitlab_pushes.sql): `detail.project.id`, `detail.ref`,
`detail.project.default_branch`, `detail.commits[].id` and `.timestamp`, and the envelope
`time` (when the relay put it) as the push time. The token is neither logged nor returned.

Statuses: 200 put (body: the EventBridge event id), 401 missing or wrong token, 405 not a
POST, 413 larger than one EventBridge entry may be, 400 not a JSON push hook, 502
EventBridge refused the entry (GitLab shows it under the hook's recent events: resend it
from there). Only the standard library and boto3, which the Lambda runtime provides.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import logging
import os
import time
from typing import Any

import boto3

PUSH_EVENT = "Push Hook"  # GitLab's X-Gitlab-Event value for push hooks
PUSH_KIND = "push"  # and the body's object_kind
# PutEvents counts an entry as the UTF-8 bytes of Source + DetailType + Detail (+ Resources,
# + 14 for Time): https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
DEFAULT_MAX_ENTRY_BYTES = 256 * 1024
SECRET_TTL_SECONDS = 300  # a rotated secret is picked up within five minutes

log = logging.getLogger("dora4.gitlab_relay")  # INFO, whatever the root logger's level
log.setLevel(logging.INFO)

_secret_cache: dict[str, tuple[float, str]] = {}


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """The Lambda entry point (function URL, payload format 2.0)."""
    return relay(
        event,
        token=_secret(os.environ["TOKEN_SECRET_ARN"]),
        events=_client("events"),
        bus=os.environ.get("EVENT_BUS_NAME", "default"),
        source=os.environ.get("SOURCE", "gitlab"),
        max_entry_bytes=int(os.environ.get("MAX_ENTRY_BYTES", DEFAULT_MAX_ENTRY_BYTES)),
    )


def relay(
    request: dict[str, Any],
    *,
    token: str,
    events: Any,
    bus: str,
    source: str,
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
) -> dict[str, Any]:
    """Checks one webhook request and puts it as one EventBridge event, or refuses it."""
    method = request.get("requestContext", {}).get("http", {}).get("method", "POST")
    if method != "POST":
        return _answer(405, "only POST")
    headers = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
    if not _token_matches(headers.get("x-gitlab-token"), token):
        return _answer(401, "missing or wrong X-Gitlab-Token")
    body = _body(request)
    detail_type = headers.get("x-gitlab-event", "")
    size = len(source.encode()) + len(detail_type.encode()) + len(body)
    if size > max_entry_bytes:
        log.warning("refused a %s of %d bytes (limit %d)", detail_type, size, max_entry_bytes)
        return _answer(413, f"entry of {size} bytes; EventBridge takes {max_entry_bytes}")
    problem = _not_a_push(detail_type, body)
    if problem:
        return _answer(400, problem)
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": source,
                "DetailType": detail_type,
                "Detail": body.decode(),
            }
        ]
    )
    entry = answer["Entries"][0]
    if answer.get("FailedEntryCount") or "EventId" not in entry:
        log.error("EventBridge refused the push: %s", entry.get("ErrorCode"))
        return _answer(502, f"EventBridge refused the event: {entry.get('ErrorCode')}")
    log.info("relayed a %s as %s", detail_type, entry["EventId"])
    return _answer(200, entry["EventId"])


def _token_matches(given: str | None, expected: str) -> bool:
    """Constant time in the token's content (hmac.compare_digest), never a plain `==`."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _body(request: dict[str, Any]) -> bytes:
    raw = request.get("body") or ""
    if request.get("isBase64Encoded"):
        return base64.b64decode(raw)
    return raw.encode()


def _not_a_push(detail_type: str, body: bytes) -> str | None:
    """Why this is not a push hook the pipeline can read, or None."""
    if detail_type != PUSH_EVENT:
        return f"X-Gitlab-Event is {detail_type!r}; only {PUSH_EVENT!r} is relayed"
    try:
        hook = json.loads(body.decode("utf-8"))  # GitLab sends UTF-8; the detail must be
    except ValueError:  # UnicodeDecodeError included
        return "the body is not UTF-8 JSON"
    if not isinstance(hook, dict) or hook.get("object_kind") != PUSH_KIND:
        return f"the body is not a push hook (object_kind {PUSH_KIND!r})"
    return None


def _secret(arn: str) -> str:
    cached = _secret_cache.get(arn)
    if cached and time.monotonic() - cached[0] < SECRET_TTL_SECONDS:
        return cached[1]
    value = _client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    _secret_cache[arn] = (time.monotonic(), value)
    return value


@functools.cache
def _client(service: str) -> Any:
    """One client per service for the container's life (created on first use)."""
    return boto3.client(service)


def _answer(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message}),
    }
