"""Writes Firehose objects and records what became of each planned record.

The truth is taken from what was actually written: a deployment counts when at least
one copy of it lies whole inside a readable part of some object.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from dora4_generator.firehose import (
    compress,
    cut_short,
    frame,
    object_key,
    truncate,
    write_object,
)
from dora4_generator.noise import random_uuid
from dora4_generator.specials import SECOND, Planned

GZIP_SHARE = 0.85  # the rest are written uncompressed (Firehose's default)
NDJSON_SHARE = 0.2  # the rest concatenated without delimiter (Firehose's default)
NOT_AN_EVENT = '{"hello":"world"}'
# planted events the pipeline must dead-letter for one field: the kind and that field
_FIELD_OF_MARK = {"missing_field": "detail.deploymentId", "implausible_time": "detail.updatedAt"}


@dataclass
class Stats:
    objects: int = 0
    events: int = 0
    noise_events: int = 0
    lookalike_events: int = 0
    deployment_events: int = 0  # first deliveries of counted-deployment events
    duplicate_events: int = 0
    invalid_events: int = 0
    late_events: int = 0
    # records carrying one of AWS's three deployment signals as a plain scan sees them
    # (benchmarks/floor.py): every delivery, scale-to-zero look-alikes too; by source
    signal_events: Counter = field(default_factory=Counter)
    bytes_uncompressed: int = 0
    bytes_written: int = 0
    objects_per_day: Counter = field(default_factory=Counter)


class ArchiveWriter:
    def __init__(self, root: Path, rng: Random) -> None:
        self.root, self.rng = root, rng
        self.stats = Stats()
        self.survived: set[str] = set()
        self.dead_letters: list[dict] = []
        self.empty_objects: list[str] = []
        self.truncated = False

    def write(self, records: list[str], planned: list[tuple[int, Planned]], first_us: int) -> None:
        """One object: `records` in arrival order, `planned` the special ones by index."""
        gz, ndjson = self.rng.random() < GZIP_SHARE, self.rng.random() < NDJSON_SHARE
        key_uuid = random_uuid(self.rng)
        marks = {p.mark: index for index, p in planned if p.mark}
        damage = None
        if "truncate" in marks and not self.truncated:  # once, even if the marks span objects
            gz, ndjson, damage, self.truncated = True, False, "truncated_gzip", True
        elif "cut" in marks:
            gz, ndjson, damage = False, False, "malformed_record"
            records[marks["cut"]] = cut_short(records[marks["cut"]])
        elif "not_an_event" in marks:
            gz, ndjson, damage = True, True, "not_an_event"
            records.insert(marks["not_an_event"], NOT_AN_EVENT)
            planned = [(i + (i >= marks["not_an_event"]), p) for i, p in planned]
        key = object_key(first_us, key_uuid, gz=gz)
        body, ends = frame(records, ndjson=ndjson)
        data = compress(body) if gz else body
        readable = len(body)
        if damage == "truncated_gzip":
            data, readable = self._truncate(data, ends, planned)
        if damage:
            self.dead_letters.append({"object_key": key, "kind": damage})
        self._count(key, records, planned, body, data, damage)
        for index, p in planned:
            if p.identity and ends[index] <= readable:
                self.survived.add(p.identity)
                source = p.identity.split(":")[0]
                if source in ("lambda", "ecs", "eks") and p.mark is None:
                    self.stats.signal_events[source] += 1
            if p.mark in _FIELD_OF_MARK:
                self.dead_letters.append(
                    {"object_key": key, "kind": p.mark, "field": _FIELD_OF_MARK[p.mark]}
                )
            elif (p.mark == "eks_details_template" and ends[index] <= readable) or (
                p.mark and p.mark.startswith("custom_")  # an invalid custom event
            ):
                self.dead_letters.append({"object_key": key, "kind": p.mark})
        write_object(self.root, key, data)

    def write_empty(self, arrival_us: int) -> None:
        """A 0-byte object (named .gz, as Firehose names the stream's objects)."""
        key = object_key(arrival_us, random_uuid(self.rng), gz=True)
        self.stats.objects += 1
        self.stats.objects_per_day[key[:10].replace("/", "-")] += 1
        self.empty_objects.append(key)
        write_object(self.root, key, b"")

    def _truncate(self, blob: bytes, ends: list[int], planned: list) -> tuple[bytes, int]:
        """Cut where about as many deployments stay readable as are lost (halfway if none)."""
        deployments = [ends[index] for index, p in planned if p.role == "deployment"]
        best, best_score = truncate(blob, 0.5), 0
        for step in range(2, 19):
            cut, readable = truncate(blob, step / 20)
            kept = sum(end <= readable for end in deployments)
            score = min(kept, len(deployments) - kept)
            if score > best_score:
                best, best_score = (cut, readable), score
        return best

    def _count(
        self, key: str, records: list[str], planned: list, body: bytes, data: bytes, damage
    ) -> None:
        stats = self.stats
        stats.objects += 1
        stats.objects_per_day[key[:10].replace("/", "-")] += 1
        stats.bytes_uncompressed += len(body)
        stats.bytes_written += len(data)
        events = len(records) - (damage == "not_an_event")
        stats.events += events
        stats.noise_events += events - len(planned)
        for _, p in planned:
            if p.copy:
                stats.duplicate_events += 1
            else:
                role = {
                    "deployment": "deployment_events",
                    "lookalike": "lookalike_events",
                    "noise": "noise_events",
                    "invalid": "invalid_events",
                }[p.role]
                setattr(stats, role, getattr(stats, role) + 1)
            if p.arrival_us - p.envelope_us >= 3600 * SECOND:
                stats.late_events += 1
