"""Reading a damaged Firehose object record by record, keeping every good record.

The fast path hands whole batches to DuckDB's JSON reader; an object it cannot read
(a truncated gzip, a malformed record, a value that is not an event) comes here, so that
the good records in it still count and each bad stretch becomes one dead letter with its
position. Pure: bytes in, records and damages out.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

GZIP_MAGIC = b"\x1f\x8b"
EXCERPT_CHARS = 500
_CHUNK = 1 << 20
_WHITESPACE = re.compile(r"\s*")
# Where a record may start again after damage: an object opening with an envelope key.
_RECORD_START = re.compile(r'\{\s*"(?:version|id|detail-type|source|account|time|region)"')


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


def iter_records(text: str) -> Iterator[Record | Damage]:
    """Concatenated or newline-delimited JSON records, resynchronising after damage."""
    decoder = json.JSONDecoder()
    position, index, length = 0, 0, len(text)
    while True:
        position = _WHITESPACE.match(text, position).end()
        if position >= length:
            return
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            resume = _next_event_start(text, position + 1, decoder)
            yield Damage(
                index,
                position,
                f"malformed JSON record: {error.msg}",
                text[position : min(resume, position + EXCERPT_CHARS)],
            )
            position, index = resume, index + 1
            continue
        if _is_event(value):
            yield Record(index, position, value)
        else:
            yield Damage(
                index,
                position,
                "not an EventBridge event: the record has no source and detail-type",
                text[position : min(end, position + EXCERPT_CHARS)],
            )
        position, index = end, index + 1


def read_object(data: bytes) -> Iterator[Record | Damage]:
    """An object's records and damage. A gzip cut short is one dead letter, placed at the
    record the cut went through (not a second 'malformed' one for the same cause)."""
    text, cut = decompress(data)
    pending: Damage | None = None
    for item in iter_records(text.decode("utf-8", errors="replace")):
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
        except json.JSONDecodeError:
            continue
        if _is_event(value):
            return match.start()
    return len(text)
