"""Firehose's S3 layout: <prefix>YYYY/MM/DD/HH/<stream>-<n>-YYYY-MM-DD-HH-MM-SS-<uuid>[ext].

The folder hour is when Firehose received the object's oldest record (delivery time),
never the time of the events inside it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_KEY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


def day_prefix(day: date) -> str:
    return f"{day:%Y/%m/%d}/"


def delivery_hour(relative_key: str) -> datetime | None:
    """The delivery hour of a key below the archive prefix, or None if not Firehose's layout."""
    match = _KEY.match(relative_key)
    if not match:
        return None
    year, month, day, hour = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None
