"""The EventBridge envelope and the time formats each emitter writes.

Builders take a `datetime` (UTC; naive means UTC) or a ready string, so a fixture can
pin an odd format exactly while everyday callers pass datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

Time = datetime | str


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_seconds(value: Time) -> str:
    """`2026-03-17T14:02:11Z`: envelopes, CloudTrail, Kubernetes timestamps."""
    return value if isinstance(value, str) else _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(value: Time) -> str:
    """`2026-03-17T14:02:11.000Z`: ECS `updatedAt`."""
    if isinstance(value, str):
        return value
    value = _utc(value)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def iso_micros(value: Time) -> str:
    """`2026-03-17T14:02:11.123456Z`: Kubernetes `eventTime` (MicroTime)."""
    if isinstance(value, str):
        return value
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(
    *,
    event_id: str,
    detail_type: str,
    source: str,
    account: str,
    time: Time,
    region: str,
    resources: list[str],
    detail: dict,
) -> dict:
    """An EventBridge event, keys in the order EventBridge writes them."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": iso_seconds(time),
        "region": region,
        "resources": resources,
        "detail": detail,
    }
