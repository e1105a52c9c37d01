"""What every special record shares: its delivery plan, lazy rendering, seeded ids.

A `Planned` record is rendered only when its object is written, so a busy day's
deployments and look-alikes cost a closure each until then, not their JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from random import Random

from dora4_generator.catalog import Component
from dora4_generator.events import FUNCTION_NAME_FORMS
from dora4_generator.firehose import at
from dora4_generator.noise import random_uuid

SECOND = 1_000_000


@dataclass(slots=True)
class Planned:
    """One record to deliver: when it reaches Firehose, what it is, how to render it."""

    arrival_us: int
    envelope_us: int
    render: Callable[[], str]
    role: str  # "deployment" | "lookalike" | "noise" | "invalid" | "empty"
    identity: str | None = None  # deployment_id of a counted deployment
    copy: bool = False  # a second delivery (byte-identical, or an exporter re-send)
    mark: str | None = None  # damage planted on or around this record (see writer.py)
    rank: int = 1  # tie-break among equal arrivals (0 goes first)


def near_miss_identity(kind: str, key: str) -> str:
    """The Planned identity of a near miss: truth counts it by kind once it is written whole
    (near_misses.near_miss_counts)."""
    return f"near-miss:{kind}:{key}"


def _dumps(build: Callable[..., dict], kwargs: dict) -> str:
    return json.dumps(build(**kwargs), separators=(",", ":"))


def rendered(build: Callable[..., dict], kwargs: dict) -> Callable[[], str]:
    """Compact JSON of `build(**kwargs)`, made when called: same call, same bytes."""
    return partial(_dumps, build, kwargs)


def iso_utc(micros: int) -> str:
    """Truth's timestamps: ISO 8601 UTC with `Z`, microseconds only when present."""
    return at(micros).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Context:
    """The scenario's seeded RNG and the account the events belong to."""

    rng: Random
    account: str
    region: str

    def uuid(self) -> str:
        return random_uuid(self.rng)

    def between(self, low_us: int, high_us: int) -> int:
        return low_us + int(self.rng.random() * (high_us - low_us))

    def ecs_deployment_id(self) -> str:
        return f"ecs-svc/{self.rng.randrange(10**18, 10**19)}"


def lambda_kwargs(ctx: Context, component: Component, change_us: int, index: int, **extra) -> dict:
    """Arguments of `lambda_update_function_code`, the function named in rotating forms."""
    return dict(
        event_id=ctx.uuid(),
        event_time=at(change_us),
        envelope_id=ctx.uuid(),
        request_id=ctx.uuid(),
        function_name_form=FUNCTION_NAME_FORMS[index % len(FUNCTION_NAME_FORMS)],
        function_name=component.name,
        account=ctx.account,
        region=ctx.region,
        **extra,
    )


def eks_kwargs(
    ctx: Context, component: Component, envelope_us: int, change_us: int, message: str, **extra
) -> dict:
    """Arguments of `eks_scaling_replica_set` for `component` (labels, annotations from the
    catalog)."""
    labels, annotations = component.k8s_metadata()
    return dict(
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        account=ctx.account,
        region=ctx.region,
        cluster_name=component.cluster,
        namespace=component.namespace,
        deployment=component.name,
        uid=ctx.uuid(),
        message=message,
        last_timestamp=at(change_us),
        labels=labels,
        annotations=annotations,
        revision=ctx.rng.randrange(2, 60),
        **extra,
    )
