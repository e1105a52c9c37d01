"""Landing: each new archive object is read once, its candidates kept, its noise counted.

Objects are taken in batches (bounded bytes) and handed to DuckDB's JSON reader in one
scan per batch. An object DuckDB cannot read whole goes through the record-by-record
reader (events/records.py), so its good records still count and its damage is kept as
dead letters. No record stops landing: one larger or deeper than the limits (Limits) is a
dead letter, and a record the Python reader accepts but DuckDB still refuses (a lone
UTF-16 surrogate, say) is found by halving the object's records and dead-lettered with
DuckDB's reason. A batch commits in one transaction: a crash lands nothing half.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from dora4_pipeline import sql
from dora4_pipeline.events.firehose import delivery_hour, delivery_time
from dora4_pipeline.events.records import (
    DEFAULT_LIMITS,
    Damage,
    Limits,
    Record,
    is_gzip,
    read_object,
)
from dora4_pipeline.resources.archive import Archive, ArchiveObject

# Objects per DuckDB scan and transaction. DuckDB streams the records, so memory does not
# grow with the batch, while each batch pays a fixed cost (planning the staging views that
# find dead letters): measured in docs/performance.md, "Landing: fewer, larger batches".
BATCH_BYTES = 256 << 20  # compressed bytes (about 1 GB of JSON)
BATCH_OBJECTS = 500
_ERROR_PLACE = re.compile(r' in file "[^"]*"|, at byte \d+ in record/value \d+')


@dataclass
class LandingReport:
    objects_listed: int = 0
    objects_unchanged: int = 0
    objects_landed: int = 0
    objects_relanded: int = 0
    objects_outside_layout: int = 0
    objects_read_record_by_record: int = 0
    bytes_landed: int = 0
    records: int = 0
    candidates: int = 0
    dead_letters: int = 0
    outside_layout_keys: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


@dataclass(frozen=True)
class _Pending:
    obj: ArchiveObject
    delivered: datetime  # the folder hour
    delivered_at: datetime  # to the second where the file name says it
    relanding: bool


def land_days(
    archive: Archive,
    conn: duckdb.DuckDBPyConnection,
    days: Iterable[date],
    log: logging.Logger,
    limits: Limits = DEFAULT_LIMITS,
) -> LandingReport:
    """Lands every object delivered on these days that is not landed already (key + etag)."""
    report = LandingReport()
    pending: list[_Pending] = []
    for day in days:
        pending.extend(_new_objects(archive, conn, day, report))
    total = len(pending)
    log.info(
        f"{report.objects_listed} objects listed, {report.objects_unchanged} landed before, "
        f"{total} to land"
    )
    done = 0
    for batch in _batches(pending):
        _land_batch(archive, conn, batch, report, limits)
        done += len(batch)
        log.info(
            f"landed {done}/{total} objects: {report.records:,} records, "
            f"{report.candidates:,} candidates, {report.dead_letters} dead letters"
        )
    if report.outside_layout_keys:
        log.warning(
            f"{report.objects_outside_layout} objects are not in Firehose's layout and were "
            f"skipped, e.g. {report.outside_layout_keys[:3]}"
        )
    return report


def _new_objects(
    archive: Archive, conn: duckdb.DuckDBPyConnection, day: date, report: LandingReport
) -> list[_Pending]:
    listed = archive.list_day(day)
    report.objects_listed += len(listed)
    landed = dict(
        conn.execute(
            "select object_key, etag from ops.landed_objects where delivery_day = ?", [day]
        ).fetchall()
    )
    pending = []
    for obj in listed:
        delivered = delivery_hour(obj.key)
        if delivered is None:
            report.objects_outside_layout += 1
            report.outside_layout_keys.append(obj.key)
        elif landed.get(obj.key) == obj.etag:
            report.objects_unchanged += 1
        else:
            pending.append(
                _Pending(obj, delivered, delivery_time(obj.key), relanding=obj.key in landed)
            )
    return pending


def _batches(pending: Sequence[_Pending]) -> Iterable[list[_Pending]]:
    batch: list[_Pending] = []
    size = 0
    for item in pending:
        if batch and (size + item.obj.size > BATCH_BYTES or len(batch) >= BATCH_OBJECTS):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item.obj.size
    if batch:
        yield batch


def _land_batch(
    archive: Archive,
    conn: duckdb.DuckDBPyConnection,
    batch: list[_Pending],
    report: LandingReport,
    limits: Limits,
) -> None:
    with tempfile.TemporaryDirectory(prefix="dora4-landing-") as work:
        paths = archive.local_paths([p.obj for p in batch], Path(work))
        read_paths, damages = _scan(conn, paths, Path(work), limits)
        conn.execute(
            "create or replace temp table batch_objects (path varchar, object_key varchar, "
            "etag varchar, size_bytes bigint, delivery_hour timestamptz, parse_path varchar, "
            "delivered_at timestamptz)"
        )
        # one statement with a list per column (executemany runs one statement per object)
        conn.execute(
            "insert into batch_objects select unnest(?), unnest(?), unnest(?), "
            "unnest(?::bigint[]), unnest(?::timestamptz[]), unnest(?), "
            "unnest(?::timestamptz[])",
            [
                [str(path) for path in read_paths],
                [p.obj.key for p in batch],
                [p.obj.etag for p in batch],
                [p.obj.size for p in batch],
                [p.delivered for p in batch],
                [
                    "duckdb" if read == given else "python"
                    for read, given in zip(read_paths, paths, strict=True)
                ],
                [p.delivered_at for p in batch],
            ],
        )
        conn.execute(
            "create or replace temp table batch_damages (path varchar, record_index bigint, "
            "position bigint, reason varchar, raw_excerpt varchar)"
        )
        if damages:
            conn.executemany("insert into batch_damages values (?, ?, ?, ?, ?)", damages)
        _commit(conn)
    _count(conn, batch, read_paths, paths, report)


def _commit(conn: duckdb.DuckDBPyConnection) -> None:
    with sql.transaction(conn):
        sql.run_script(conn, "landing/commit_batch", {"now": datetime.now(UTC)})


def _count(conn, batch, read_paths, paths, report: LandingReport) -> None:
    records, candidates, dead = conn.execute(
        "select sum(records), sum(candidates), sum(dead_letters) from ops.landed_objects "
        "where object_key in (select object_key from batch_objects)"
    ).fetchone()
    report.records += int(records or 0)
    report.candidates += int(candidates or 0)
    report.dead_letters += int(dead or 0)
    report.objects_landed += len(batch)
    report.objects_relanded += sum(p.relanding for p in batch)
    report.bytes_landed += sum(p.obj.size for p in batch)
    report.objects_read_record_by_record += sum(
        r != p for r, p in zip(read_paths, paths, strict=True)
    )


def _scan(
    conn: duckdb.DuckDBPyConnection, paths: list[Path], work: Path, limits: Limits
) -> tuple[list[Path], list[tuple]]:
    """Fills temp table scan_result; returns the path each object was read from, and damages."""
    _create_scan_result(conn)
    readable = [p for p in paths if p.stat().st_size > 0]
    damaged: list[Path] = []
    most = limits.max_record_bytes
    for compression, group in _by_compression(readable).items():
        if group and not _try_scan(conn, group, compression, most):
            damaged.extend(p for p in group if not _try_scan(conn, [p], compression, most))
    damaged.extend(_paths_with_non_events(conn))
    read_paths = list(paths)
    damages: list[tuple] = []
    for path in damaged:
        conn.execute("delete from scan_result where path = ?", [str(path)])
        clean, found = _read_record_by_record(conn, path, work, limits)
        read_paths[paths.index(path)] = clean
        damages.extend((str(clean), d.index, d.position, d.reason, d.excerpt) for d in found)
    return read_paths, damages


def _create_scan_result(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "create or replace temp table scan_result (path varchar, source varchar, "
        "detail_type varchar, events bigint, candidates bigint, candidate_events struct("
        "event_id varchar, source varchar, detail_type varchar, envelope_time varchar, "
        "account varchar, region varchar, resources json, detail json)[])"
    )


def _try_scan(
    conn: duckdb.DuckDBPyConnection, paths: list[Path], compression: str, max_bytes: int
) -> bool:
    statement = "insert into scan_result {scan}"
    return _scan_error(conn, paths, compression, max_bytes, statement) is None


def _scan_error(
    conn: duckdb.DuckDBPyConnection,
    paths: list[Path],
    compression: str,
    max_bytes: int,
    statement: str,
) -> str | None:
    """Runs the scan inside `statement` (at `{scan}`); DuckDB's error if it cannot read."""
    try:
        conn.execute(
            statement.replace("{scan}", sql.load("landing/scan_objects")),
            {
                "paths": [str(p) for p in paths],
                "compression": compression,
                "max_record_bytes": max_bytes,
            },
        )
        return None
    except duckdb.Error as error:
        return _ERROR_PLACE.sub("", str(error).strip().splitlines()[0])


def _paths_with_non_events(conn: duckdb.DuckDBPyConnection) -> list[Path]:
    rows = conn.execute(
        "select distinct path from scan_result where source is null or detail_type is null"
    ).fetchall()
    return [Path(path) for (path,) in rows]


def _by_compression(paths: list[Path]) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = {"gzip": [], "none": []}
    for path in paths:
        with path.open("rb") as handle:
            groups["gzip" if is_gzip(handle.read(2)) else "none"].append(path)
    return groups


def _read_record_by_record(
    conn: duckdb.DuckDBPyConnection, path: Path, work: Path, limits: Limits
) -> tuple[Path, list[Damage]]:
    """Writes the object's good records as NDJSON beside it, scans them into scan_result,
    and returns that file and the damage (records DuckDB refuses included)."""
    damages: list[Damage] = []
    records: list[Record] = []
    for item in read_object(path.read_bytes(), limits):
        if isinstance(item, Damage):
            damages.append(item)
        else:
            records.append(item)
    lines = [json.dumps(record.event) + "\n" for record in records]
    clean = work / f"{path.name}.records.ndjson"
    # json.dumps escapes what it writes, so a line may be longer than the record was
    longest = max((len(line) for line in lines), default=0)
    max_bytes = max(limits.max_record_bytes, longest + 1)
    clean.write_text("".join(lines))
    if _try_scan(conn, [clean], "none", max_bytes):
        return clean, damages
    refused = _refused_lines(conn, lines, work / f"{path.name}.probe.ndjson", max_bytes)
    damages.extend(
        Damage(
            records[n].index,
            records[n].position,
            f"DuckDB's JSON reader refuses the record: {reason}",
            lines[n][:500],
        )
        for n, reason in refused.items()
    )
    clean.write_text("".join(line for n, line in enumerate(lines) if n not in refused))
    if not _try_scan(conn, [clean], "none", max_bytes):
        raise RuntimeError(f"DuckDB could not read the cleaned records of {path}")
    return clean, sorted(damages, key=lambda d: (d.index is None, d.index or 0))


def _refused_lines(
    conn: duckdb.DuckDBPyConnection, lines: list[str], probe: Path, max_bytes: int
) -> dict[int, str]:
    """The lines DuckDB cannot read and why, found by halving: a few scans per bad line."""
    refused: dict[int, str] = {}

    def error_of(start: int, stop: int) -> str | None:
        probe.write_text("".join(lines[start:stop]))
        statement = "create or replace temp table scan_probe as {scan}"  # every column read
        return _scan_error(conn, [probe], "none", max_bytes, statement)

    def search(start: int, stop: int, error: str) -> None:
        if stop - start == 1:
            refused[start] = error
            return
        middle = (start + stop) // 2
        for low, high in ((start, middle), (middle, stop)):
            found = error_of(low, high)
            if found is not None:
                search(low, high, found)

    whole = error_of(0, len(lines))
    if whole is not None and lines:
        search(0, len(lines), whole)
    return refused
