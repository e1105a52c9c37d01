"""The few events that matter, each with its delivery and (for deployments) its truth row.

A `Planned` record is rendered only when its object is written, so a busy day's
deployments and look-alikes cost a closure each until then, not their JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from random import Random

from dora4_pipeline.generator.catalog import Component
from dora4_pipeline.generator.events import (
    FUNCTION_NAME_FORMS,
    ecs_deployment_state_change,
    lambda_update_function_code,
)
from dora4_pipeline.generator.firehose import at
from dora4_pipeline.generator.k8s import eks_scaling_replica_set, k8s_event, scaling_message
from dora4_pipeline.generator.noise import pod_hash, random_uuid

SECOND = 1_000_000


@dataclass(slots=True)
class Planned:
    """One record to deliver: when it reaches Firehose, what it is, how to render it."""

    arrival_us: int
    envelope_us: int
    render: Callable[[], str]
    role: str  # "deployment" | "lookalike" | "noise" | "invalid"
    identity: str | None = None  # deployment_id of a counted deployment
    copy: bool = False  # a second delivery (byte-identical, or an exporter re-send)
    mark: str | None = None  # corruption planted on this record, see scenario.CORRUPTIONS
    rank: int = 1  # tie-break among equal arrivals (0 goes first)


def _dumps(build: Callable[..., dict], kwargs: dict) -> str:
    return json.dumps(build(**kwargs), separators=(",", ":"))


def rendered(build: Callable[..., dict], **kwargs) -> Callable[[], str]:
    return partial(_dumps, build, kwargs)


def iso_utc(micros: int) -> str:
    """Truth's timestamps: ISO 8601 UTC with `Z`, microseconds only when present."""
    return at(micros).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Context:
    rng: Random
    account: str
    region: str

    def uuid(self) -> str:
        return random_uuid(self.rng)

    def between(self, low_us: int, high_us: int) -> int:
        return low_us + int(self.rng.random() * (high_us - low_us))


@dataclass(frozen=True)
class Deployment:
    """A counted deployment: its first delivery and its truth row."""

    planned: Planned
    truth: dict
    build: Callable[..., dict]
    kwargs: dict


def deployment(
    ctx: Context, component: Component, change_us: int, index: int, envelope_delay_us: int
) -> Deployment:
    """A successful deployment of `component` changed at `change_us` (arrival set later)."""
    rng, row = ctx.rng, None
    if component.kind == "lambda_function":
        change_us -= change_us % SECOND  # CloudTrail times have whole seconds
        event_id = ctx.uuid()
        publish = rng.random() < 0.7
        build, kwargs = (
            lambda_update_function_code,
            dict(
                event_id=event_id,
                event_time=at(change_us),
                envelope_id=ctx.uuid(),
                function_name_form=FUNCTION_NAME_FORMS[index % 3],
                function_name=component.name,
                account=ctx.account,
                region=ctx.region,
                publish=publish,
                version=rng.randrange(2, 400) if publish else None,
                request_id=ctx.uuid(),
            ),
        )
        envelope_us, row = change_us, ("lambda", f"lambda:{event_id}")
    elif component.kind == "ecs_service":
        change_us -= change_us % 1000  # updatedAt has milliseconds
        deployment_id = f"ecs-svc/{rng.randrange(10**18, 10**19)}"
        envelope_us = change_us - change_us % SECOND + envelope_delay_us
        build, kwargs = (
            ecs_deployment_state_change,
            dict(
                envelope_id=ctx.uuid(),
                envelope_time=at(envelope_us),
                service_arn=component.resource_id(ctx.account, ctx.region),
                event_name="SERVICE_DEPLOYMENT_COMPLETED",
                deployment_id=deployment_id,
                updated_at=at(change_us),
                account=ctx.account,
                region=ctx.region,
            ),
        )
        row = ("ecs", f"ecs:{deployment_id}")
    else:
        micro_time = rng.random() < 0.06  # events.k8s.io form: lastTimestamp null
        if not micro_time:
            change_us -= change_us % SECOND
        uid, count = ctx.uuid(), 1 if rng.random() < 0.85 else rng.randrange(2, 5)
        envelope_us = change_us - change_us % SECOND + envelope_delay_us
        build, kwargs = (
            eks_scaling_replica_set,
            eks_kwargs(
                ctx,
                component,
                envelope_us=envelope_us,
                uid=uid,
                count=count,
                message=scaling_message(
                    f"{component.name}-{pod_hash(rng)}",
                    old=rng.randrange(1, 6),
                    new=0,
                    wording=index % 3,
                ),
                change_us=change_us,
                micro_time=micro_time,
            ),
        )
        row = ("eks", f"eks:{uid}:{count}")
    source, identity = row
    truth = {
        "deployment_id": identity,
        "event_source": source,
        "deployed_at": iso_utc(change_us),
        "day": at(change_us).date().isoformat(),
        "component_type": component.kind,
        "resource_id": component.resource_id(ctx.account, ctx.region),
        **component.ownership(),
    }
    planned = Planned(0, envelope_us, rendered(build, **kwargs), "deployment", identity)
    return Deployment(planned, truth, build, kwargs)


def eks_kwargs(
    ctx: Context,
    component: Component,
    *,
    envelope_us: int,
    uid: str,
    count: int,
    message: str,
    change_us: int,
    micro_time: bool = False,
) -> dict:
    return dict(
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        account=ctx.account,
        region=ctx.region,
        cluster_name=component.cluster,
        namespace=component.namespace,
        deployment=component.name,
        uid=uid,
        count=count,
        message=message,
        last_timestamp=None if micro_time else at(change_us),
        event_time=at(change_us) if micro_time else None,
        labels=component.tags,
        revision=ctx.rng.randrange(2, 60),
    )


def resend(ctx: Context, original: Deployment, envelope_us: int) -> Planned:
    """The exporter sending the same Kubernetes event again: new envelope id and time."""
    kwargs = dict(original.kwargs, envelope_id=ctx.uuid(), envelope_time=at(envelope_us))
    return Planned(
        0,
        envelope_us,
        rendered(original.build, **kwargs),
        "deployment",
        original.planned.identity,
        copy=True,
    )


LOOKALIKES = (
    "lambda_failed",
    "ecs_in_progress",
    "ecs_failed",
    "eks_scale_up",
    "eks_scale_down_partial",
    "k8s_other",
)


def lookalike(ctx: Context, kind: str, component: Component, change_us: int, index: int) -> Planned:
    """A candidate that must not count (failed call, unfinished rollout, scale-up...).

    `index` is the look-alike's number that day; variants rotate on each kind's own turn.
    """
    rng, change_us = ctx.rng, change_us - change_us % SECOND
    index //= len(LOOKALIKES)
    envelope_us = change_us + SECOND * rng.randrange(1, 6)
    if kind == "lambda_failed":
        envelope_us = change_us
        build, kwargs = (
            lambda_update_function_code,
            dict(
                event_id=ctx.uuid(),
                event_time=at(change_us),
                envelope_id=ctx.uuid(),
                function_name_form=FUNCTION_NAME_FORMS[index % 3],
                function_name=component.name,
                account=ctx.account,
                region=ctx.region,
                publish=rng.random() < 0.5,
                error_code=(
                    "ResourceConflictException",
                    "InvalidParameterValueException",
                    "CodeStorageExceededException",
                )[index % 3],
                request_id=ctx.uuid(),
            ),
        )
    elif kind in ("ecs_in_progress", "ecs_failed"):
        new_id = f"ecs-svc/{rng.randrange(10**18, 10**19)}"
        reason = None
        if kind == "ecs_in_progress" and index % 3 == 0:
            old_id = f"ecs-svc/{rng.randrange(10**18, 10**19)}"
            reason = f"ECS deployment circuit breaker: rolling back to deploymentId {old_id}."
        build, kwargs = (
            ecs_deployment_state_change,
            dict(
                envelope_id=ctx.uuid(),
                envelope_time=at(envelope_us),
                service_arn=component.resource_id(ctx.account, ctx.region),
                event_name="SERVICE_DEPLOYMENT_FAILED"
                if kind == "ecs_failed"
                else "SERVICE_DEPLOYMENT_IN_PROGRESS",
                deployment_id=new_id,
                updated_at=at(change_us + 1000 * rng.randrange(1000)),
                account=ctx.account,
                region=ctx.region,
                reason=reason,
            ),
        )
    elif kind in ("eks_scale_up", "eks_scale_down_partial"):
        replica_set = f"{component.name}-{pod_hash(rng)}"
        old, new = (0, 3) if kind == "eks_scale_up" else (3, 1)
        build = eks_scaling_replica_set
        kwargs = eks_kwargs(
            ctx,
            component,
            envelope_us=envelope_us,
            uid=ctx.uuid(),
            count=1,
            message=scaling_message(replica_set, old=old, new=new, wording=index % 3),
            change_us=change_us,
        )
    else:
        build, kwargs = k8s_event, k8s_other_kwargs(ctx, component, envelope_us, change_us, index)
    return Planned(0, envelope_us, rendered(build, **kwargs), "lookalike")


_OTHER_REASONS = (
    ("Pod", "Pulled", 'Successfully pulled image "{image}" in 1.2s', "kubelet", "Normal"),
    ("Pod", "Created", "Created container app", "kubelet", "Normal"),
    ("Pod", "Started", "Started container app", "kubelet", "Normal"),
    (
        "Pod",
        "BackOff",
        "Back-off restarting failed container app in pod {pod}",
        "kubelet",
        "Warning",
    ),
    ("ReplicaSet", "SuccessfulCreate", "Created pod: {pod}", "replicaset-controller", "Normal"),
)


def k8s_other_kwargs(
    ctx: Context, component: Component, envelope_us: int, change_us: int, index: int
) -> dict:
    kind, reason, message, reporter, level = _OTHER_REASONS[index % len(_OTHER_REASONS)]
    replica_set = f"{component.name}-{pod_hash(ctx.rng)}"
    pod = f"{replica_set}-{pod_hash(ctx.rng, 5)}"
    image = f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com/{component.name}:release"
    labels = None if component.tags is None else {"app": component.name, **component.tags}
    return dict(
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        account=ctx.account,
        region=ctx.region,
        cluster_name=component.cluster,
        namespace=component.namespace,
        uid=ctx.uuid(),
        reason=reason,
        message=message.format(image=image, pod=pod),
        involved_kind=kind,
        involved_name=replica_set if kind == "ReplicaSet" else pod,
        involved_uid=ctx.uuid(),
        last_timestamp=at(change_us),
        labels=labels,
        type=level,
        component=reporter,
    )


def missing_deployment_id(ctx: Context, component: Component, change_us: int) -> Planned:
    """An ECS SERVICE_DEPLOYMENT_COMPLETED without `deploymentId`: a dead letter, not a deploy."""
    change_us -= change_us % 1000
    envelope_us = change_us - change_us % SECOND + 2 * SECOND
    render = rendered(
        ecs_deployment_state_change,
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        service_arn=component.resource_id(ctx.account, ctx.region),
        event_name="SERVICE_DEPLOYMENT_COMPLETED",
        deployment_id=None,
        updated_at=at(change_us),
        account=ctx.account,
        region=ctx.region,
    )
    return Planned(0, envelope_us, render, "invalid", mark="missing_field")
