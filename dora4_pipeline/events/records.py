"""Reading a damaged Firehose object record by record, keeping every good record.

The fast path hands whole batches to DuckDB's JSON reader; an object it cannot read
(a truncated gzip, a malformed record, a value that is not an event) comes here, so that
the good records in it still count and each bad stretch becomes one dead letter with its
position. Pure: bytes in, records and damages out.

Hostile records are damage too, never a stop: one larger than the record limit, or nested
deeper than the depth limit (Python's parser recurses, so depth must be bounded here),
is a dead letter and the reader goes on with the next record. A byte order mark before
a record is not damage (some producers write one per record).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

GZIP_MAGIC = b"\x1f\x8b"
EXCERPT_CHARS = 500
DEFAULT_MAX_RECORD_BYTES = 16 << 20  # DuckDB's default maximum_object_size
DEFAULT_MAX_JSON_DEPTH = 128
_CHUNK = 1 << 20
_WHITESPACE = re.compile(r"[\s\ufeff]*")  # a BOM between records is not damage
# Where a record may start again after damage: an object opening with an envelope key.
_RECORD_START = re.compile(r'\{\s*"(?:version|id|detail-type|source|account|time|region)"')


@dataclass(frozen=True)
class Limits:
    """What one record may be: larger or deeper is a dead letter (DORA4_MAX_RECORD_BYTES,
    DORA4_MAX_JSON_DEPTH)."""

    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Record:
    index: int
    position: int  # character offset in the decompressed text
    event: dict


@dataclass(frozen=True)
class Damage:
    index: int | None
    position: int | None
    reason: str
    excerpt: str


def is_gzip(head: bytes) -> bool:
    return head[:2] == GZIP_MAGIC


def decompress(data: bytes) -> tuple[bytes, Damage | None]:
    """The object's text bytes; for a broken gzip, the readable prefix and why it ends."""
    if not is_gzip(data):
        return data, None
    output: list[bytes] = []
    stream = zlib.decompressobj(wbits=47)
    for start in range(0, len(data), _CHUNK):
        chunk = data[start : start + _CHUNK]
        while chunk:
            try:
                output.append(stream.decompress(chunk))
            except zlib.error as error:
                return _broken(output, f"corrupt gzip: {error}", data, start)
            chunk = b""
            if stream.eof and stream.unused_data:  # a multi-member gzip: keep going
                chunk, stream = stream.unused_data, zlib.decompressobj(wbits=47)
    if not stream.eof:
        return _broken(output, "truncated gzip: the compressed stream ends early", data, len(data))
    return b"".join(output), None


def _broken(output: list[bytes], reason: str, data: bytes, at: int) -> tuple[bytes, Damage]:
    text = b"".join(output)
    tail = text[-EXCERPT_CHARS:].decode("utf-8", errors="replace")
    return text, Damage(None, None, f"{reason} (after {len(text)} readable bytes)", tail)


def iter_records(text: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Record | Damage]:
    """Concatenated or newline-delimited JSON records, resynchronising after damage."""
    decoder = json.JSONDecoder()
    position, index, length = 0, 0, len(text)
    while True:
        position = _WHITESPACE.match(text, position).end()
        if position >= length:
            return
        try:
            value, end = decoder.raw_decode(text, position)
        except (json.JSONDecodeError, RecursionError) as error:
            resume = _next_event_start(text, position + 1, decoder)
            reason = (
                _too_deep(limits)
                if isinstance(error, RecursionError)
                else f"malformed JSON record: {error.msg}"
            )
            yield Damage(
                index, position, reason, text[position : min(resume, position + EXCERPT_CHARS)]
            )
            position, index = resume, index + 1
            continue
        excerpt = text[position : min(end, position + EXCERPT_CHARS)]
        size = _utf8_size(text, position, end, limits.max_record_bytes)
        if size > limits.max_record_bytes:
            yield Damage(
                index,
                position,
                f"record of {size:,} bytes is larger than the limit of "
                f"{limits.max_record_bytes:,} (DORA4_MAX_RECORD_BYTES)",
                excerpt,
            )
        elif _deeper_than(value, limits.max_json_depth):
            yield Damage(index, position, _too_deep(limits), excerpt)
        elif _is_event(value):
            yield Record(index, position, value)
        else:
            yield Damage(
                index,
                position,
                "not an EventBridge event: the record has no source and detail-type",
                excerpt,
            )
        position, index = end, index + 1


def _too_deep(limits: Limits) -> str:
    return f"JSON nested deeper than {limits.max_json_depth} levels (DORA4_MAX_JSON_DEPTH)"


def _utf8_size(text: str, start: int, end: int, limit: int) -> int:
    """The record's size in UTF-8 bytes, exact wherever it could matter against `limit`."""
    chars = end - start
    if chars * 4 <= limit:  # surely under: a character is at most 4 bytes
        return chars
    return len(text[start:end].encode("utf-8", errors="replace"))


def _deeper_than(value: object, limit: int) -> bool:
    """Whether containers nest more than `limit` levels; iterative, so never recursing."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if level > limit:
            return True
        stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return False


def read_object(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Iterator[Record | Damage]:
    """An object's records and damage. A gzip cut short is one dead letter, placed at the
    record the cut went through (not a second 'malformed' one for the same cause)."""
    text, cut = decompress(data)
    pending: Damage | None = None
    for item in iter_records(text.decode("utf-8", errors="replace"), limits):
        if pending is not None:
            yield pending
        pending = item if isinstance(item, Damage) else None
        if pending is None:
            yield item
    if cut is None:
        if pending is not None:
            yield pending
    elif pending is not None:  # the last record ran into the cut
        yield Damage(pending.index, pending.position, cut.reason, pending.excerpt)
    else:
        yield cut


def _is_event(value: object) -> bool:
    return isinstance(value, dict) and "source" in value and "detail-type" in value


def _next_event_start(text: str, start: int, decoder: json.JSONDecoder) -> int:
    """The next position where a whole EventBridge event decodes, or the end of the text."""
    for match in _RECORD_START.finditer(text, start):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except (json.JSONDecodeError, RecursionError):
            continue
        if _is_event(value):
            return match.start()
    return len(text)
