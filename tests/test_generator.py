"""The generator's archive agrees with its truth when read independently of the pipeline.

The reader below is deliberately separate from dora4_pipeline's own: stdlib only, the
three rules of README's "What counts as a deployment" (EKS: a scale-down to 0 beside another
replica set's scale-up, docs/sources-kubernetes.md), so a generator bug cannot hide behind a
shared pipeline bug.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dora4_generator import generate

START = date(2026, 3, 17)
KEY = re.compile(
    r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/dora4-events-1-"
    r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
    r"(\.gz)?$"
)
SCALING = re.compile(
    r"^(?:\(combined from similar events\): )?Scaled (up|down) (?:replica set|ReplicaSet) (\S+)"
    r"(?: \(revision (\d+)\))? (?:to (\d+)(?: from \d+)?|from \d+ to (\d+))$"
)


def read_text(data: bytes) -> str:
    """gzip (by magic bytes, truncation tolerated) or plain."""
    if data[:2] == b"\x1f\x8b":
        data = zlib.decompressobj(wbits=31).decompress(data)
    return data.decode("utf-8")


def read_values(text: str):
    """Concatenated or newline-delimited JSON; after damage, resume at the next envelope."""
    decoder, position = json.JSONDecoder(), 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            position = text.find('{"version"', position + 1)
            if position < 0:
                return
            continue
        yield value


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ecs_groups(tags_json: dict) -> set[str]:
    """ARNs of the CodeDeploy deployment groups tags.json says deploy an ECS service."""
    return {
        arn
        for arn, info in tags_json.items()
        if ":deploymentgroup:" in arn
        and info.get("computePlatform") == "ECS"
        and info["ecsServices"]
    }


def deployment(event: dict, groups: set[str] = frozenset()) -> tuple[str, datetime] | None:
    """(deployment_id, change time) when the rules count the event, else None.

    A CodeDeploy SUCCESS counts when its group (resources[1]) deploys an ECS service; its
    time is the envelope's (the detail has none).
    """
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None
    if (
        event.get("detail-type") == "CodeDeploy Deployment State-change Notification"
        and detail.get("state") == "SUCCESS"
        and event["resources"][1] in groups
    ):
        return f"codedeploy:{detail['deploymentId']}", parse_time(event["time"])
    if (
        event.get("source") == "aws.lambda"
        and event.get("detail-type") == "AWS API Call via CloudTrail"
        and detail.get("eventName") == "UpdateFunctionCode20150331v2"
        and not detail.get("errorCode")
        and detail.get("requestParameters", {}).get("dryRun") is not True
    ):
        return f"lambda:{detail['eventID']}", parse_time(detail["eventTime"])
    if (
        event.get("detail-type") == "ECS Deployment State Change"
        and detail.get("eventName") == "SERVICE_DEPLOYMENT_COMPLETED"
        and detail.get("deploymentId")
    ):
        return f"ecs:{detail['deploymentId']}", parse_time(detail["updatedAt"])
    if (  # docs/custom-events.md: a valid custom Deployment that succeeded
        event.get("source") == "dora4"
        and event.get("detail-type") == "Deployment"
        and detail.get("status") == "succeeded"
        and detail.get("id")
        and (detail.get("tags") or detail.get("resource"))
        and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                     detail.get("finished_at", ""))
    ):  # fmt: skip
        return f"custom:{detail['id']}", parse_time(detail["finished_at"])
    return None


def plausible(changed: datetime, delivered: datetime) -> bool:
    """The README's window: at most 7 days before delivery, 1 day (and an hour) after."""
    return delivered - timedelta(days=7) <= changed < delivered + timedelta(days=1, hours=1)


def eks_scaling(event: dict) -> dict | None:
    """A ScalingReplicaSet event of the exporter's whole-event shape, its message read."""
    detail = event.get("detail")
    if not isinstance(detail, dict) or "involvedObject" not in detail:
        return None
    match = (
        SCALING.match(detail.get("message", ""))
        if detail.get("reason") == "ScalingReplicaSet"
        else None
    )
    if not match:
        return None
    involved = detail["involvedObject"]
    return {
        "identity": f"eks:{detail['metadata']['uid']}:{detail['count']}",
        "at": parse_time(detail.get("lastTimestamp") or detail.get("eventTime")),
        "owner": (detail["clusterName"], involved["namespace"], involved["kind"], involved["name"]),
        "up": match[1] == "up",
        "combined": detail["message"].startswith("(combined from similar events): "),
        "replica_set": match[2],
        "revision": int(match[3]) if match[3] else None,
        "to": int(match[4] or match[5]),
    }


def eks_rollouts(scalings: list[dict]) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(counted, scale-to-zero): a scale-down to 0 counts when another replica set of the
    same object was scaled up within an hour and not scaled to 0 in between (Argo: with
    a higher revision)."""
    downs = [s for s in scalings if not s["up"] and s["to"] == 0]

    def live_partner(up: dict, down: dict) -> bool:
        first, last = sorted((up["at"], down["at"]))
        return (
            up["up"]
            and up["owner"] == down["owner"]
            and up["replica_set"] != down["replica_set"]
            and (None in (up["revision"], down["revision"]) or up["revision"] > down["revision"])
            and abs(up["at"] - down["at"]) <= timedelta(hours=1)
            and not any(
                z["owner"] == up["owner"] and z["replica_set"] == up["replica_set"]
                and first < z["at"] < last
                for z in downs
            )
        )  # fmt: skip

    counted, zero = {}, {}
    for down in downs:
        target = counted if any(live_partner(s, down) for s in scalings) else zero
        target.setdefault(down["identity"], down["at"])
    return counted, zero


def archive_objects(root: Path):
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        yield path.relative_to(root).as_posix(), path.read_bytes()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict, dict]:
    out = tmp_path_factory.mktemp("generated")
    summary = generate(out, start=START, days=2, events_per_day=3000, seed=11)
    return out, summary, json.loads((out / "truth.json").read_text())


def test_an_independent_reader_finds_exactly_the_truth(generated):
    out, summary, truth = generated
    groups = ecs_groups(json.loads((out / "tags.json").read_text()))
    found: dict[str, datetime] = {}
    envelopes: dict[str, Counter] = {}  # deployment_id -> envelope id -> copies
    scalings: list[dict] = []
    for key, data in archive_objects(out / "archive"):
        delivered = datetime.strptime(key[:13], "%Y/%m/%d/%H").replace(tzinfo=UTC)
        for value in read_values(read_text(data)):
            if isinstance(value, dict) and (hit := deployment(value, groups)):
                if not plausible(hit[1], delivered):
                    continue
                found.setdefault(*hit)
                envelopes.setdefault(hit[0], Counter())[value["id"]] += 1
            elif isinstance(value, dict) and (scaling := eks_scaling(value)):
                scalings.append(scaling)
                envelopes.setdefault(scaling["identity"], Counter())[value["id"]] += 1
    counted, scaled_to_zero = eks_rollouts(scalings)
    found.update(counted)
    assert scaled_to_zero == {
        row["deployment_id"]: parse_time(row["changed_at"]) for row in truth["near_misses"]
    }
    assert scaled_to_zero, "the generator makes scale-to-zero episodes"
    # the variants are there: aggregated occurrences of one Event, Argo Rollouts
    combined = Counter(s["identity"].rsplit(":", 1)[0] for s in scalings if s["combined"])
    assert any(s["combined"] and s["identity"] in counted for s in scalings)
    assert max(combined.values()) >= 2, "an aggregated Event updated with a rising count"
    assert any(s["owner"][2] == "Rollout" and s["identity"] in counted for s in scalings)
    per_day = {day: Counter() for day in truth["deployments_per_day"]}
    for identity, changed in found.items():
        source = identity.split(":")[0].replace("codedeploy", "ecs")  # blue/green ECS
        per_day[changed.date().isoformat()][source] += 1
    assert {day: dict(counts) for day, counts in per_day.items()} == {
        day: {source: n for source, n in counts.items() if n}
        for day, counts in truth["deployments_per_day"].items()
    }
    assert set(found) == {row["deployment_id"] for row in truth["deployments"]}
    assert all(
        parse_time(row["deployed_at"]) == found[row["deployment_id"]]
        for row in truth["deployments"]
    )
    assert not set(found) & {row["deployment_id"] for row in truth["lost_deployments"]}
    # Delivered twice, still counted once: same envelope id, and exporter re-sends.
    assert any(max(ids.values()) > 1 for ids in envelopes.values())
    assert any(len(ids) > 1 for key, ids in envelopes.items() if key.startswith("eks:"))
    assert truth["lost_deployments"] and summary["deployments"] == len(truth["deployments"])
    damage = [d for d in truth["dead_letters"] if not d["kind"].startswith("custom_")]
    assert sorted(d["kind"] for d in damage) == [
        "eks_details_template",
        "eks_details_template",
        "implausible_time",
        "malformed_record",
        "missing_field",
        "not_an_event",
        "truncated_gzip",
    ]
    counted = (
        "noise_events",
        "lookalike_events",
        "deployment_events",
        "duplicate_events",
        "invalid_events",
    )
    assert truth["events"] == sum(truth[name] for name in counted) == summary["events"]


def test_keys_follow_firehose_and_folders_never_precede_events(generated):
    out, _, truth = generated
    objects = 0
    for key, data in archive_objects(out / "archive"):
        objects += 1
        match = KEY.match(key)
        assert match, key
        folder = datetime(*map(int, match.groups()[:4]), tzinfo=UTC)
        assert match.groups()[:4] == match.groups()[4:8], "file name hour = folder hour"
        for value in read_values(read_text(data)):
            if not isinstance(value, dict) or "time" not in value:
                continue
            sent = parse_time(value["time"])
            assert folder >= sent.replace(minute=0, second=0, microsecond=0), key
            assert folder - sent < timedelta(hours=24), key
    last_folder_day = (START + timedelta(days=2)).isoformat()
    assert objects == truth["objects"]
    assert last_folder_day in truth["objects_per_day"]  # late deliveries only


def test_same_seed_same_bytes(tmp_path):
    first = generate(tmp_path / "a", start=START, days=1, events_per_day=1500, seed=3)
    second = generate(tmp_path / "b", start=START, days=1, events_per_day=1500, seed=3)
    assert first["objects"] == second["objects"] > 0
    assert dict(archive_objects(tmp_path / "a")) == dict(archive_objects(tmp_path / "b"))


def test_without_corruption_nothing_is_lost(tmp_path):
    generate(tmp_path, start=START, days=1, events_per_day=1000, corrupt=False)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["dead_letters"] == truth["lost_deployments"] == truth["empty_objects"] == []
    tags = json.loads((tmp_path / "tags.json").read_text())
    prefixes = ("arn:aws:lambda:", "arn:aws:ecs:", "arn:aws:codedeploy:")
    assert all(arn.startswith(prefixes) for arn in tags)


def test_the_benchmark_floor_counts_exactly_the_signal_events(tmp_path):
    """benchmarks/run.py checks the floor's count against truth's `signal_events`: a plain
    DuckDB scan with the staging rules' predicates (benchmarks/floor.py) must find them all,
    copies and scale-to-zero look-alikes included, on an undamaged day."""
    floor = _load_floor()
    generate(tmp_path, start=START, days=1, events_per_day=20000, corrupt=False, seed=5)
    truth = json.loads((tmp_path / "truth.json").read_text())
    found = floor.count_signals(tmp_path / "archive")
    assert found["by_source"] == truth["signal_events"]
    counted = Counter(row["deployment_id"].split(":")[0] for row in truth["deployments"])
    for source in ("lambda", "ecs", "eks"):  # every counted deployment has a signal, or more
        assert truth["signal_events"][source] >= counted[source] > 0


def _load_floor():
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "floor.py"
    spec = importlib.util.spec_from_file_location("benchmark_floor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generator_tags_with_the_pipeline_s_schema_keys():
    """The generator keeps its own copy of the tagging schema (it never imports the
    pipeline); a key renamed on one side only would leave every resource unassigned."""
    from dora4_generator.catalog import TAG_KEYS
    from dora4_pipeline.settings import SCHEMA_TAG_KEYS

    assert TAG_KEYS == SCHEMA_TAG_KEYS
