"""Firehose's S3 layout: <prefix>YYYY/MM/DD/HH/<stream>-<n>-YYYY-MM-DD-HH-MM-SS-<uuid>[ext].

The folder hour is when Firehose received the object's oldest record (delivery time),
never the time of the events inside it. The file name carries the same time to the second.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_KEY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")
_NAME_TIME = re.compile(r"-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]*$")


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


def delivery_time(relative_key: str) -> datetime | None:
    """When Firehose received the object's oldest record: the file name's time to the
    second where it agrees with the folder hour, else the folder hour (None outside the
    layout). Orders deliveries: of two copies of an event, the earlier delivered is first."""
    hour = delivery_hour(relative_key)
    match = _NAME_TIME.search(relative_key)
    if hour is None or match is None:
        return hour
    try:
        named = datetime(*(int(part) for part in match.groups()), tzinfo=UTC)
    except ValueError:
        return hour
    return named if named.replace(minute=0, second=0) == hour else hour
