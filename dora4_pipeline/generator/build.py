"""`generate`: a deterministic archive, tags file and truth, streamed window by window.

Output under `out_dir`:
- `archive/`: Firehose's layout, `YYYY/MM/DD/HH/dora4-events-1-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]`
  (UTC delivery hour of the object's oldest record). One object per five-minute buffer
  window, split at 5 MiB; an object never spans two windows, so its folder hour is never
  before the hour of any event inside it. The folder of the day after the last generated
  day holds only deliveries of earlier events (late ones, and those sent near midnight).
- `tags.json`: `{"<ARN>": {"Ownership.BA": ..., ...}}` for tagged Lambda functions and
  ECS services (untagged ones are absent, as from the Tagging API).
- `truth.json`: what the generator wrote, never what a pipeline computed:

    {"params": {...},
     "deployments": [{"deployment_id": "lambda:<eventID>" | "ecs:<deploymentId>"
                                       | "eks:<metadata.uid>:<count>",
                      "event_source": "lambda" | "ecs" | "eks",
                      "deployed_at": "2026-03-17T14:02:11Z" (microseconds when present),
                      "day": "YYYY-MM-DD",
                      "component_type": "lambda_function" | "ecs_service" | "k8s_deployment",
                      "resource_id": unqualified Lambda ARN | ECS service ARN
                                     | "<clusterName>/<namespace>/<deployment>",
                      "component_name", "environment", "ownership_ba", "ownership_pod",
                      "ownership_team", "compliance_namespace", "git_project_id",
                      "git_repository": value or "unassigned"}, ...],
     "deployments_per_day": {"YYYY-MM-DD": {"lambda": n, "ecs": n, "eks": n}},
     "lost_deployments": [same shape: only copy beyond a gzip truncation],
     "dead_letters": [{"object_key": "<key below archive/>",
                       "kind": "truncated_gzip" | "malformed_record" | "not_an_event"
                               | "missing_field",
                       "field": "detail.deploymentId" (missing_field only)}],
     "empty_objects": ["<key>"],
     "objects", "events", "noise_events", "lookalike_events", "deployment_events",
     "duplicate_events", "invalid_events", "late_events": n,
     "objects_per_day": {"YYYY-MM-DD": n},
     "changes": [{"deployment_id", "commit_sha", "committed_at", "deployed_at",
                  "lead_time_seconds", "component_name", "environment", "ownership_ba",
                  "ownership_pod", "ownership_team"}, ...]  (dora_keys.py: the README's rules),
     "failures": [{"failure_id", "kind": "incident" | "rollback" | "circuit_breaker",
                   "started_at", "resolved_at" (null: open), "deployment_id" (null: none),
                   "link_rule" (null: none; docs/metrics.md),
                   "component_name", "environment", "ownership_*"}, ...],
     (custom `Incident` events and incidents naming a deployment or commit:
      generator/incidents.py; rules of spec r2),
     "earlier_code_deployments": [deployment_id]  (rollbacks, redeploys, roll-forwards,
                                 ECS circuit-breaker rollbacks: they ship no commits),
     "roll_forwards": [deployment_id]  (N5 → N3 → N5's last step: no rollback)}

  `events` counts every EventBridge record written (copies, lost and damaged ones
  included) = noise + lookalike + deployment + duplicate + invalid events.
  `late_events`: records delivered an hour or more after their envelope time.
"""

from __future__ import annotations

import json
import shutil
import time as clock
from collections import defaultdict
from datetime import date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from random import Random

from dora4_pipeline.generator.catalog import tags_file
from dora4_pipeline.generator.dora_keys import DoraKeys
from dora4_pipeline.generator.dora_keys import truth as dora_keys_truth
from dora4_pipeline.generator.firehose import (
    BUFFER_SECONDS,
    MAX_OBJECT_BYTES,
    STREAM,
)
from dora4_pipeline.generator.incidents import Incidents
from dora4_pipeline.generator.noise import NoiseMaker
from dora4_pipeline.generator.scenario import (
    WINDOW,
    WINDOWS_PER_DAY,
    Scenario,
    window_of,
)
from dora4_pipeline.generator.specials import SECOND, Planned
from dora4_pipeline.generator.writer import ArchiveWriter

SOURCES = ("lambda", "ecs", "eks")


def generate(
    out_dir: Path,
    *,
    start: date,
    days: int,
    events_per_day: int,
    seed: int = 7,
    deployment_share: float = 0.05,
    corrupt: bool = True,
    account: str = "444455556666",
    region: str = "eu-west-1",
) -> dict:
    """Write archive/, tags.json and truth.json under `out_dir`; return a summary."""
    began = clock.perf_counter()
    archive = _fresh_archive(Path(out_dir))
    scenario = Scenario(
        start=start,
        events_per_day=events_per_day,
        deployment_share=deployment_share,
        corrupt=corrupt,
        account=account,
        region=region,
        seed=seed,
    )
    noise = NoiseMaker(account=account, region=region, rng=Random(f"{seed}:noise"))
    writer = ArchiveWriter(archive, Random(f"{seed}:objects"))
    keys = DoraKeys(scenario, seed)
    incidents = Incidents(keys, seed)
    _stream(scenario, keys, incidents, noise, writer, days)
    params = dict(
        start=start.isoformat(),
        days=days,
        events_per_day=events_per_day,
        seed=seed,
        deployment_share=deployment_share,
        corrupt=corrupt,
        account=account,
        region=region,
        stream=STREAM,
        buffer_seconds=BUFFER_SECONDS,
        max_object_bytes=MAX_OBJECT_BYTES,
    )
    truth = _truth(params, scenario, writer, start, days)
    truth.update(dora_keys_truth(keys, truth["deployments"], writer.survived, incidents))
    (archive.parent / "tags.json").write_text(
        json.dumps(tags_file(account, region), indent=2) + "\n"
    )
    (archive.parent / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    stats = writer.stats
    return {
        "out_dir": str(archive.parent),
        "objects": stats.objects,
        "events": stats.events,
        "bytes": stats.bytes_uncompressed,
        "bytes_written": stats.bytes_written,
        "deployments": len(truth["deployments"]),
        "seconds": round(clock.perf_counter() - began, 2),
    }


def _stream(
    scenario: Scenario,
    keys: DoraKeys,
    incidents: Incidents,
    noise: NoiseMaker,
    writer: ArchiveWriter,
    days: int,
) -> None:
    """Every buffer window in order, each day planned as it begins; one extra folder day."""
    pending: dict[int, list[Planned]] = defaultdict(list)
    first = window_of(scenario.start_us)
    for window in range(first, first + (days + 1) * WINDOWS_PER_DAY):
        day_index, slot = divmod(window - first, WINDOWS_PER_DAY)
        if slot == 0 and day_index < days:
            day_plan = scenario.plan_day(day_index)
            day_plan += keys.plan_day(day_index, day_plan) + incidents.plan_day(day_index)
            for planned in day_plan:
                assert window_of(planned.arrival_us) >= window, "planned into the past"
                pending[window_of(planned.arrival_us)].append(planned)
        count = scenario.volume.window_noise[slot] if day_index < days else 0
        specials = pending.pop(window, [])
        _write_window(writer, noise, window, count, specials, scenario.start_us // SECOND)
    assert not pending, "a record was planned beyond the last folder day"


def _fresh_archive(out_dir: Path) -> Path:
    """`out_dir/archive`, emptied when it holds an earlier generation (truth.json beside it).

    Stale objects would silently change the archive; a folder that is not ours is refused.
    """
    archive = out_dir / "archive"
    if (out_dir / "truth.json").exists():
        shutil.rmtree(archive, ignore_errors=True)
    elif archive.exists() and any(archive.iterdir()):
        raise FileExistsError(f"{archive} is not empty and holds no earlier generation")
    archive.mkdir(parents=True, exist_ok=True)
    return archive


def _write_window(
    writer: ArchiveWriter,
    noise: NoiseMaker,
    window: int,
    count: int,
    specials: list[Planned],
    floor_s: int,
) -> None:
    """Noise drawn for the window merged with its special records, in arrival order."""
    rng, begin = noise.rng, window * WINDOW
    items: list[tuple] = [(begin + int(rng.random() * WINDOW), 2, None) for _ in range(count)]
    items += [(p.arrival_us, p.rank, p) for p in specials]
    items.sort(key=itemgetter(0, 1))
    records: list[str] = []
    planned: list[tuple[int, Planned]] = []
    size = first_us = 0
    for arrival_us, _, special in items:
        if special is None:
            seconds = max(arrival_us // SECOND - 1 - int(rng.random() * 30), floor_s)
            text = noise.render(seconds)
        elif special.mark == "empty":
            writer.write_empty(arrival_us)
            continue
        else:
            text = special.render()
        if records and size + len(text) + 1 > MAX_OBJECT_BYTES:
            writer.write(records, planned, first_us)
            records, planned, size = [], [], 0
        if not records:
            first_us = arrival_us
        if special is not None:
            planned.append((len(records), special))
        records.append(text)
        size += len(text) + 1
    if records:
        writer.write(records, planned, first_us)


def _truth(params: dict, scenario: Scenario, writer: ArchiveWriter, start: date, days: int) -> dict:
    def order(row: dict) -> tuple:
        return datetime.fromisoformat(row["deployed_at"]), row["deployment_id"]

    rows = scenario.truth.values()
    counted = sorted((r for r in rows if r["deployment_id"] in writer.survived), key=order)
    lost = sorted((r for r in rows if r["deployment_id"] not in writer.survived), key=order)
    per_day = {
        (start + timedelta(days=i)).isoformat(): dict.fromkeys(SOURCES, 0) for i in range(days)
    }
    for row in counted:
        per_day[row["day"]][row["event_source"]] += 1
    stats = writer.stats
    return {
        "params": params,
        "deployments": counted,
        "deployments_per_day": per_day,
        "lost_deployments": lost,
        "dead_letters": writer.dead_letters,
        "empty_objects": writer.empty_objects,
        "objects": stats.objects,
        "events": stats.events,
        "noise_events": stats.noise_events,
        "lookalike_events": stats.lookalike_events,
        "deployment_events": stats.deployment_events,
        "duplicate_events": stats.duplicate_events,
        "invalid_events": stats.invalid_events,
        "late_events": stats.late_events,
        "objects_per_day": dict(sorted(stats.objects_per_day.items())),
    }
