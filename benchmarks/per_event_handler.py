"""The seed design's way: a per-event Python handler, like the original Lambda.

For each object: read it, gunzip it, split the concatenated JSON records with
`raw_decode`, and call `handle(event)` on each one, which classifies the event (the three
signals, same rules as dbt_like_sql/staging/), extracts identity, time and resource, and
tags it. The Lambda called the Tagging API per resource; here that is a lookup in the
tags.json dict, so this measures the cheapest possible version of that design.

Usage: python benchmarks/per_event_handler.py ARCHIVE_DIR TAGS_JSON  (prints one JSON line)
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

_WHITESPACE = re.compile(r"\s*")
_SCALED_TO_ZERO = re.compile(
    r"^(?:\(combined from similar events\): )?Scaled down (?:replica set|ReplicaSet) \S+ "
    r"(?:\(revision \d+\) )?(?:to 0(?: from \d+)?|from \d+ to 0)$"
)
_FUNCTION = re.compile(
    r"^(?:arn:(aws[a-z-]*):lambda:([a-z0-9-]+):)?(?:(\d{12}):)?(?:function:)?"
    r"([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$"
)


def records(data: bytes):
    """The object's events: gzip or plain, concatenated or newline-delimited."""
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
    decoder, position = json.JSONDecoder(), 0
    while (position := _WHITESPACE.match(text, position).end()) < len(text):
        event, position = decoder.raw_decode(text, position)
        yield event


def handle(event: dict, tags: dict) -> dict | None:
    """A deployment with its owners' tags, or None when the event is not one."""
    detail = event.get("detail") or {}
    if (
        event.get("source") == "aws.lambda"
        and detail.get("eventName") == "UpdateFunctionCode20150331v2"
        and detail.get("errorCode") is None
        and (detail.get("requestParameters") or {}).get("dryRun") is not True
    ):
        arn = _function_arn(event, detail)
        found = ("lambda", f"lambda:{detail['eventID']}", detail["eventTime"], arn, tags.get(arn))
    elif (
        event.get("source") == "aws.ecs"
        and event.get("detail-type") == "ECS Deployment State Change"
        and detail.get("eventName") == "SERVICE_DEPLOYMENT_COMPLETED"
    ):
        arn = event["resources"][0]
        found = ("ecs", f"ecs:{detail['deploymentId']}", detail["updatedAt"], arn, tags.get(arn))
    elif (
        detail.get("reason") == "ScalingReplicaSet"
        and "involvedObject" in detail
        and _SCALED_TO_ZERO.match(detail.get("message") or "")
    ):
        involved = detail["involvedObject"]
        identity = f"eks:{detail['metadata']['uid']}:{detail.get('count') or 1}"
        resource = f"{detail.get('clusterName')}/{involved.get('namespace')}/{involved['name']}"
        changed = detail.get("lastTimestamp") or detail.get("eventTime")
        found = ("eks", identity, changed, resource, involved.get("labels"))
    else:
        return None
    source, identity, deployed_at, resource, owner_tags = found
    return {
        "source": source,
        "deployment_id": identity,
        "deployed_at": deployed_at,
        "resource": resource,
        "tags": owner_tags or {},
    }


def _function_arn(event: dict, detail: dict) -> str:
    """The unqualified function ARN, whether CloudTrail named it by name, ARN or partial ARN."""
    named = (detail.get("responseElements") or {}).get("functionArn") or (
        detail.get("requestParameters") or {}
    ).get("functionName", "")
    partition, region, account, name = _FUNCTION.match(named).groups()
    region = region or detail.get("awsRegion") or event.get("region")
    account = account or detail.get("recipientAccountId") or event.get("account")
    return f"arn:{partition or 'aws'}:lambda:{region}:{account}:function:{name}"


def run(archive: Path, tags_file: Path) -> dict:
    tags = json.loads(tags_file.read_text())
    began = time.perf_counter()
    objects, events, found = 0, 0, Counter()
    for path in sorted(p for p in archive.rglob("*") if p.is_file()):
        objects += 1
        for event in records(path.read_bytes()):
            events += 1
            deployment = handle(event, tags)
            if deployment is not None:
                found[deployment["source"]] += 1
    return {
        "objects": objects,
        "events": events,
        "deployments": sum(found.values()),
        "by_source": dict(found),
        "seconds": round(time.perf_counter() - began, 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
