"""The generator's archive agrees with its truth when read independently of the pipeline.

The reader below is deliberately separate from dora4_pipeline's own: stdlib only, the
CONTRACT's three rules, so a generator bug cannot hide behind a shared pipeline bug.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dora4_pipeline.generator import generate

START = date(2026, 3, 17)
KEY = re.compile(
    r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/dora4-events-1-"
    r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
    r"(\.gz)?$"
)
SCALED_DOWN_TO_ZERO = re.compile(
    r"^Scaled down replica set \S+ (to 0|to 0 from \d+|from \d+ to 0)$"
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
    """(deployment_id, change time) when the CONTRACT counts the event, else None.

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
    ):
        return f"lambda:{detail['eventID']}", parse_time(detail["eventTime"])
    if (
        event.get("detail-type") == "ECS Deployment State Change"
        and detail.get("eventName") == "SERVICE_DEPLOYMENT_COMPLETED"
        and detail.get("deploymentId")
    ):
        return f"ecs:{detail['deploymentId']}", parse_time(detail["updatedAt"])
    if (
        "involvedObject" in detail
        and detail.get("reason") == "ScalingReplicaSet"
        and SCALED_DOWN_TO_ZERO.match(detail.get("message", ""))
    ):
        changed = detail.get("lastTimestamp") or detail.get("eventTime")
        identity = f"eks:{detail['metadata']['uid']}:{detail['count']}"
        return identity, parse_time(changed)
    return None


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
    for _, data in archive_objects(out / "archive"):
        for value in read_values(read_text(data)):
            if isinstance(value, dict) and (hit := deployment(value, groups)):
                found.setdefault(*hit)
                envelopes.setdefault(hit[0], Counter())[value["id"]] += 1
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
    assert sorted(d["kind"] for d in truth["dead_letters"]) == [
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
