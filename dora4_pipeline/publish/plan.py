"""What a publishing run sends, and in which payloads. Pure: no I/O.

Datadog keeps the last value sent for a timestamp and tag set, so a point is due only
when Datadog does not hold its current value yet: new, changed, or a group that no
longer exists on that day (sent as 0, so a restated day never counts twice).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import NamedTuple

GAUGE = 3  # the v2 intake's type code for a gauge
# The v2 intake accepts 512,000 bytes compressed and 5 MiB decompressed per payload;
# the margins leave room for the envelope and the client's own serialization.
MAX_COMPRESSED_BYTES = 500_000
MAX_DECOMPRESSED_BYTES = 5_000_000

PointKey = tuple[str, date, tuple[str, ...]]  # (metric, day, tags)


@dataclass(frozen=True)
class Prior:
    """What the ledger says about one point: the last value Datadog accepted, and the last
    value recorded as sent or dry-run (None where there is none)."""

    sent: float | None
    recorded: float | None


@dataclass(frozen=True)
class DuePoint:
    metric: str
    day: date
    tags: tuple[str, ...]
    value: float
    change: str  # new | changed | resent | retracted

    @property
    def timestamp(self) -> int:
        return day_timestamp(self.day)


def day_timestamp(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def current_points(
    rows: Iterable[tuple[str, date, Sequence[str], float]], *, additive: bool = True
) -> tuple[dict[PointKey, float], int]:
    """The points and how many rows collided. Groups whose tags coincide once Datadog's
    rules are applied (`Payments` and `payments`) would overwrite each other as gauges:
    counts are summed; a median or a rate cannot be, so such a point is left out."""
    points: dict[PointKey, float] = defaultdict(float)
    seen: Counter = Counter()
    for metric, day, tags, value in rows:
        key = (metric, day, tuple(tags))
        points[key] += float(value)
        seen[key] += 1
    collided = [key for key, n in seen.items() if n > 1]
    if not additive:
        for key in collided:
            del points[key]
    return dict(points), sum(seen[key] for key in collided)


def due_points(
    current: Mapping[PointKey, float],
    prior: Mapping[PointKey, Prior],
    *,
    dry_run: bool,
    resend: bool = False,
    retract: bool = True,
) -> list[DuePoint]:
    """Points Datadog does not hold yet (all current ones with `resend`). A dry run
    compares with dry-run records too, so repeating one records nothing new. `retract`
    zeroes points whose group is gone (right for counts; a vanished median is not 0)."""
    due = []
    for key in sorted(current.keys() | prior.keys()):
        known = prior.get(key, Prior(None, None))
        reference = known.recorded if dry_run else known.sent
        if key in current:
            value = current[key]
            if reference is None:
                change = "new"
            elif reference != value:
                change = "changed"
            elif resend:
                change = "resent"
            else:
                continue
        elif reference and retract:  # a group gone from the day: zero what Datadog shows
            value, change = 0.0, "retracted"
        else:
            continue
        due.append(DuePoint(*key, value, change))
    return due


def series(points: Sequence[DuePoint]) -> list[dict]:
    """One gauge series per metric and tag set, points in time order: the v2 `series`."""
    by_series: dict[tuple[str, tuple[str, ...]], list[DuePoint]] = defaultdict(list)
    for point in points:
        by_series[(point.metric, point.tags)].append(point)
    return [
        {
            "metric": metric,
            "type": GAUGE,
            "points": [
                {"timestamp": p.timestamp, "value": p.value}
                for p in sorted(group, key=lambda p: p.day)
            ],
            "tags": list(tags),
        }
        for (metric, tags), group in by_series.items()
    ]


class Payload(NamedTuple):
    series: list[dict]
    compressed_bytes: int  # as sent: gzip of the JSON body


def payloads(all_series: Sequence[dict]) -> list[Payload]:
    """Splits series into payloads under the intake's limits, measured as sent (gzip)."""
    out: list[Payload] = []
    batch: list[dict] = []
    size = 0
    for item in all_series:
        item_size = len(json.dumps(item)) + 2
        if batch and size + item_size > MAX_DECOMPRESSED_BYTES:
            out.extend(_fit_compressed(batch))
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        out.extend(_fit_compressed(batch))
    return out


def compressed_size(batch: Sequence[dict]) -> int:
    """Bytes on the wire: the client gzips `json.dumps(body)` the same way."""
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    body = json.dumps({"series": list(batch)}).encode()
    return len(compressor.compress(body) + compressor.flush())


def _fit_compressed(batch: list[dict]) -> list[Payload]:
    size = compressed_size(batch)
    if size <= MAX_COMPRESSED_BYTES or len(batch) == 1:
        return [Payload(batch, size)]
    middle = len(batch) // 2
    return _fit_compressed(batch[:middle]) + _fit_compressed(batch[middle:])
