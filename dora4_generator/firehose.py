"""Kinesis Data Firehose's S3 output: key layout, record framing, and the damage it suffers.

Everything here is pure (bytes in, bytes out) except `write_object`.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

STREAM = "dora4-events"
STREAM_VERSION = 1
MAX_OBJECT_BYTES = 5 * 1024 * 1024  # Firehose's default buffer size...
BUFFER_SECONDS = 300  # ...and interval
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def at(micros: int) -> datetime:
    """Epoch microseconds as an aware UTC datetime (exact: no float on the way)."""
    return EPOCH + timedelta(microseconds=micros)


def object_key(first_arrival_us: int, object_uuid: str, *, gz: bool) -> str:
    """`YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]`, timed by the oldest record."""
    when = at(first_arrival_us)
    name = f"{STREAM}-{STREAM_VERSION}-{when:%Y-%m-%d-%H-%M-%S}-{object_uuid}"
    return f"{when:%Y/%m/%d/%H}/{name}{'.gz' if gz else ''}"


def frame(records: list[str], *, ndjson: bool) -> tuple[bytes, list[int]]:
    """The object body and the byte offset where each record ends.

    Firehose concatenates records with no delimiter by default (`}{`); the
    AppendDelimiterToRecord processor ends each with a newline.
    """
    ends, position = [], 0
    for record in records:
        position += len(record) + ndjson
        ends.append(position)
    body = "".join(record + "\n" for record in records) if ndjson else "".join(records)
    return body.encode("ascii"), ends


def compress(body: bytes) -> bytes:
    """gzip with mtime 0 so that the same records give the same bytes."""
    return gzip.compress(body, compresslevel=1, mtime=0)


def readable_prefix(blob: bytes) -> bytes:
    """What a streaming reader recovers from a (possibly truncated) gzip object."""
    return zlib.decompressobj(wbits=31).decompress(blob)


def truncate(blob: bytes, fraction: float) -> tuple[bytes, int]:
    """The gzip bytes cut at `fraction`, and how many body bytes are still readable."""
    cut = blob[: int(len(blob) * fraction)]
    return cut, len(readable_prefix(cut))


def cut_short(record: str) -> str:
    """The record cut inside a string value near its middle, as a lost write would leave it.

    Cutting inside a string means the next record's `{"version"` is swallowed into that
    string, so the damage never merges with the following record.
    """
    position = len(record) // 2
    while True:
        start = record.index('":"', position) + 3
        end = record.index('"', start)
        if end - start >= 4:
            return record[: start + 2]
        position = end


def write_object(root: Path, key: str, data: bytes) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
