"""`generate`: a deterministic archive, tags file and truth, streamed window by window.

Output under `out_dir`:
- `archive/`: Firehose's layout, `YYYY/MM/DD/HH/dora4-events-1-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]`
  (UTC delivery hour of the object's oldest record). One object per five-minute buffer
  window, split at 5 MiB; an object never spans two windows, so its folder hour is never
  before the hour of any event inside it. The folder of the day after the last generated
  day holds only deliveries of earlier events (late ones, and those sent near midnight).
- `tags.json`: `{"<ARN>": {"Ownership.BA": ..., ...}}` for tagged Lambda functions and
  ECS services (untagged ones are absent, as from the Tagging API), in both accounts, and
  the CodeDeploy deployment groups keyed by their ARN (codedeploy.py).
- `gitlab_api.json`: `{"<project> <before> <after>": [commit, ...]}`, what GitLab's compare
  API answers for each push of more than 20 commits (tests serve it from a stand-in).
- `truth.json`: what the generator wrote, never what a pipeline computed:

    {"params": {...},
     "deployments": [{"deployment_id": "lambda:<eventID>" | "ecs:<deploymentId>"
                                       | "codedeploy:<deploymentId>" (ECS blue/green)
                                       | "eks:<metadata.uid>:<count>",
                      "event_source": "lambda" | "ecs" | "eks",
                      "deployed_at": "2026-03-17T14:02:11Z" (microseconds when present),
                      "day": "YYYY-MM-DD",
                      "component_type": "lambda_function" | "ecs_service" | "k8s_deployment",
                      "resource_id": unqualified Lambda ARN | ECS service ARN (the long
                                     one for a short-ARN service migrated to it)
                                     | "<clusterName>/<namespace>/<deployment>",
                      "component_name", "environment", "ownership_ba", "ownership_pod",
                      "ownership_team", "compliance_namespace", "git_project_id",
                      "git_repository": value or "unassigned"}, ...],
     "deployments_per_day": {"YYYY-MM-DD": {"lambda": n, "ecs": n, "eks": n, "custom": n}},
     "lost_deployments": [same shape: only copy beyond a gzip truncation],
     "near_misses": [{"near_miss_kind": "eks_scale_to_zero", "deployment_id": "eks:<uid>:<count>",
                      "changed_at", "day", "resource_id"}]  (eks_episodes.py; survivors only),
     "dead_letters": [{"object_key": "<key below archive/>",
                       "kind": "truncated_gzip" | "malformed_record" | "not_an_event"
                               | "missing_field" | "implausible_time"
                               | "eks_details_template",
                       "field": "detail.deploymentId" (missing_field),
                                "detail.updatedAt" (implausible_time: dated 1970)}],
     "empty_objects": ["<key>"],
     "codedeploy_near_misses": [{"deployment_id": "codedeploy:<deploymentId>",
                                 "near_miss_kind": "codedeploy_not_ecs"
                                                   | "codedeploy_group_unresolved",
                                 "day", "resource_id": the deployment group ARN}],
     "objects", "events", "noise_events", "lookalike_events", "deployment_events",
     "duplicate_events", "invalid_events", "late_events": n,
     "objects_per_day": {"YYYY-MM-DD": n},
     "signal_events": {"lambda": n, "ecs": n, "eks": n}  (records a plain scan counts as
                      deployment signals: every delivery whole, scale-to-zero look-alikes too;
                      benchmarks/floor.py),
     "changes": [{"deployment_id", "commit_sha", "committed_at", "deployed_at",
                  "lead_time_seconds", "component_name", "environment", "ownership_ba",
                  "ownership_pod", "ownership_team",
                  "beyond_hook": true for a commit the push hook left out (a push of more
                  than 20 commits: only GitLab's API lists it)}, ...]
                 (dora_keys.py: the README's rules),
     "deployment_versions": {"lambda:<eventID>": "<codeSha256>"}  (fct_deployments.version),
     "commits_left_out": [{"event_id", "project_id", "before", "after",
                           "total_commits_count", "left_out"}, ...]  (default-branch pushes
                          whose hook listed the newest 20 commits only),
     "failures": [{"failure_id", "kind": "incident" | "rollback" | "circuit_breaker"
                                         | "failed_deployment",
                   "started_at", "resolved_at" (null: open), "deployment_id" (null: none),
                   "link_rule" (null: none; docs/metrics.md),
                   "component_name", "environment", "ownership_*"}, ...],
     (custom `Incident` events and incidents naming a deployment or commit:
      generator/incidents.py; rules of spec r2),
     "earlier_code_deployments": [deployment_id]  (rollbacks, redeploys, roll-forwards,
                                 ECS circuit-breaker rollbacks: they ship no commits),
     "roll_forwards": [deployment_id]  (N5 → N3 → N5's last step: no rollback),
     "custom_deployments": {"succeeded": n, "failed": n,
                            "invalid": {"custom_missing_id" | "custom_bad_time"
                                        | "custom_bad_status" | "custom_no_owner": n}},
     "near_misses_by_kind": {"<near_miss_kind>": n}  (signals that are no deployment, written
                    whole, the EKS rows above included: docs/near-misses.md)}

  Custom deployments (event_source `custom`, component_type `custom`, resource_id the
  `resource` ARN or the component) are in `deployments`; invalid ones are dead letters
  of their kind.

  `events` counts every EventBridge record written (copies, lost and damaged ones
  included) = noise + lookalike + deployment + duplicate + invalid events.
  `late_events`: records delivered an hour or more after their envelope time.
"""

from __future__ import annotations

import json
import shutil
import time as clock
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from random import Random

from dora4_generator import custom_events
from dora4_generator.catalog import tags_file
from dora4_generator.codedeploy import estate
from dora4_generator.custom_events import CustomEvents
from dora4_generator.dora_keys import DoraKeys
from dora4_generator.dora_keys import truth as dora_keys_truth
from dora4_generator.firehose import (
    BUFFER_SECONDS,
    MAX_OBJECT_BYTES,
    STREAM,
)
from dora4_generator.incidents import Incidents
from dora4_generator.near_misses import NearMisses, near_miss_counts
from dora4_generator.noise import NoiseMaker
from dora4_generator.scenario import (
    WINDOW,
    WINDOWS_PER_DAY,
    Scenario,
    window_of,
)
from dora4_generator.specials import SECOND, Planned
from dora4_generator.writer import ArchiveWriter

SOURCES = ("lambda", "ecs", "eks", "custom")


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
    custom = CustomEvents(scenario, seed)
    incidents = Incidents(keys, seed)
    planners = [keys, custom, NearMisses(scenario, seed), incidents]
    _stream(scenario, planners, noise, writer, days)
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
    truth["codedeploy_near_misses"] = scenario.codedeploy.truth_near_misses(writer.survived)
    extra = custom_events.truth(custom, truth["deployments"], writer.survived)
    truth["failures"] = sorted(
        truth["failures"] + extra.pop("failures"), key=lambda f: (f["started_at"], f["failure_id"])
    )
    by_kind = Counter(near_miss_counts(writer.survived, keys.ecs_failed))
    by_kind.update(row["near_miss_kind"] for row in truth["near_misses"])
    by_kind.update(row["near_miss_kind"] for row in truth["codedeploy_near_misses"])
    truth.update(extra, near_misses_by_kind=dict(sorted(by_kind.items())))
    (archive.parent / "tags.json").write_text(
        json.dumps(estate(tags_file(account, region), account, region), indent=2) + "\n"
    )
    (archive.parent / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    # what GitLab's compare API answers for the pushes of more than 20 commits (a test stand-in)
    (archive.parent / "gitlab_api.json").write_text(json.dumps(keys.gitlab_api) + "\n")
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
    scenario: Scenario, planners: list, noise: NoiseMaker, writer: ArchiveWriter, days: int
) -> None:
    """Every buffer window in order, each day planned as it begins (the scenario, then the
    planners that add to it: DoraKeys first, it sees the scenario's day); one extra folder
    day."""
    pending: dict[int, list[Planned]] = defaultdict(list)
    first = window_of(scenario.start_us)
    for window in range(first, first + (days + 1) * WINDOWS_PER_DAY):
        day_index, slot = divmod(window - first, WINDOWS_PER_DAY)
        if slot == 0 and day_index < days:
            day_plan = scenario.plan_day(day_index)
            keys, *others = planners
            day_plan += keys.plan_day(day_index, day_plan)
            for planned in day_plan + [p for o in others for p in o.plan_day(day_index)]:
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
        "near_misses": [
            r for r in scenario.eks.near_misses if r["deployment_id"] in writer.survived
        ],
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
        "signal_events": {k: stats.signal_events[k] for k in ("lambda", "ecs", "eks")},
        "objects_per_day": dict(sorted(stats.objects_per_day.items())),
    }
