"""Counted deployments (README's "What counts as a deployment") with their truth rows.

Also the exporter's re-send of one, and the ECS completion that lacks its id (a dead
letter, planted once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dora4_generator.catalog import Component
from dora4_generator.events import (
    ecs_deployment_state_change,
    eks_scaling_replica_set,
    lambda_update_function_code,
    scaling_message,
)
from dora4_generator.firehose import at
from dora4_generator.migrations import history_resource_id
from dora4_generator.noise import pod_hash
from dora4_generator.specials import (
    SECOND,
    Context,
    Planned,
    eks_kwargs,
    iso_utc,
    lambda_kwargs,
    rendered,
)

MICRO_TIME_SHARE = 0.06  # EKS events in the events.k8s.io form: lastTimestamp null


@dataclass(frozen=True)
class Deployment:
    """A counted deployment: its first delivery, truth row, and how it was built."""

    planned: Planned
    truth: dict
    build: Callable[..., dict]
    kwargs: dict


def deployment(
    ctx: Context, component: Component, change_us: int, index: int, envelope_delay_us: int
) -> Deployment:
    """A successful deployment of `component` at about `change_us` (arrival set later).

    `change_us` is rounded to the precision the source writes; `index` rotates variants.
    """
    make = {"lambda_function": _lambda, "ecs_service": _ecs, "k8s_deployment": _eks}
    change_us, envelope_us, identity, build, kwargs = make[component.kind](
        ctx, component, change_us, index, envelope_delay_us
    )
    truth = {
        "deployment_id": identity,
        "event_source": identity.split(":")[0],
        "deployed_at": iso_utc(change_us),
        "day": at(change_us).date().isoformat(),
        "component_type": component.kind,
        "resource_id": history_resource_id(component, ctx.account, ctx.region),
        **component.ownership(),
    }
    planned = Planned(0, envelope_us, rendered(build, kwargs), "deployment", identity)
    return Deployment(planned, truth, build, kwargs)


def _lambda(ctx: Context, component: Component, change_us: int, index: int, _delay: int):
    change_us -= change_us % SECOND  # CloudTrail times are whole seconds
    publish = ctx.rng.random() < 0.7
    version = ctx.rng.randrange(2, 400) if publish else None
    kwargs = lambda_kwargs(ctx, component, change_us, index, publish=publish, version=version)
    identity = f"lambda:{kwargs['event_id']}"
    return change_us, change_us, identity, lambda_update_function_code, kwargs


def _ecs(ctx: Context, component: Component, change_us: int, _index: int, delay: int):
    change_us -= change_us % 1000  # updatedAt has milliseconds
    envelope_us = change_us - change_us % SECOND + delay
    deployment_id = ctx.ecs_deployment_id()
    kwargs = dict(
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        service_arn=component.resource_id(ctx.account, ctx.region),
        event_name="SERVICE_DEPLOYMENT_COMPLETED",
        deployment_id=deployment_id,
        updated_at=at(change_us),
        account=ctx.account,
        region=ctx.region,
    )
    return change_us, envelope_us, f"ecs:{deployment_id}", ecs_deployment_state_change, kwargs


def _eks(ctx: Context, component: Component, change_us: int, index: int, delay: int):
    rng = ctx.rng
    micro_time = rng.random() < MICRO_TIME_SHARE
    if not micro_time:
        change_us -= change_us % SECOND
    envelope_us = change_us - change_us % SECOND + delay  # the exporter sends a little later
    count = 1 if rng.random() < 0.85 else rng.randrange(2, 5)
    replica_set = f"{component.name}-{pod_hash(rng)}"
    message = scaling_message(replica_set, old=rng.randrange(1, 6), new=0, wording=index % 3)
    kwargs = eks_kwargs(ctx, component, envelope_us, change_us, message, count=count)
    if micro_time:
        kwargs.update(last_timestamp=None, event_time=at(change_us))
    identity = f"eks:{kwargs['uid']}:{count}"
    return change_us, envelope_us, identity, eks_scaling_replica_set, kwargs


def resend(ctx: Context, original: Deployment, envelope_us: int) -> Planned:
    """The exporter sending the same Kubernetes event again: new envelope id and time."""
    kwargs = dict(original.kwargs, envelope_id=ctx.uuid(), envelope_time=at(envelope_us))
    render = rendered(original.build, kwargs)
    return Planned(0, envelope_us, render, "deployment", original.planned.identity, copy=True)


def missing_deployment_id(ctx: Context, component: Component, change_us: int) -> Planned:
    """An ECS SERVICE_DEPLOYMENT_COMPLETED without `deploymentId`: a dead letter, not a deploy."""
    change_us -= change_us % 1000
    envelope_us = change_us - change_us % SECOND + 2 * SECOND
    kwargs = dict(
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        service_arn=component.resource_id(ctx.account, ctx.region),
        event_name="SERVICE_DEPLOYMENT_COMPLETED",
        deployment_id=None,
        updated_at=at(change_us),
        account=ctx.account,
        region=ctx.region,
    )
    render = rendered(ecs_deployment_state_change, kwargs)
    return Planned(0, envelope_us, render, "invalid", mark="missing_field")
