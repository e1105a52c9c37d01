"""A deployment event whose own clock is wrong: a dead letter, not a deployment.

A host whose clock reset to the Unix epoch (no RTC, no NTP yet) stamps an ECS
SERVICE_DEPLOYMENT_COMPLETED with `updatedAt` 1970-01-01. Delivered today, it could never
fall on a day a run materializes, so the pipeline dead-letters it (change time outside
DORA4_MAX_CHANGE_AGE_DAYS of its delivery). Planted once, on the first day.
"""

from __future__ import annotations

from dora4_generator.catalog import Component
from dora4_generator.events import derived_id, ecs_deployment_state_change
from dora4_generator.firehose import EPOCH, at
from dora4_generator.specials import SECOND, Context, Planned, rendered


def epoch_clock_deployment(ctx: Context, component: Component, envelope_us: int) -> Planned:
    """An ECS completion sent at `envelope_us` whose updatedAt is the epoch. Its ids are
    derived, not drawn, so the rest of the archive is the same with it as without it."""
    envelope_us -= envelope_us % SECOND
    digits = int(derived_id("epoch-clock", envelope_us).replace("-", ""), 16) % 10**18
    kwargs = dict(
        envelope_id=derived_id("epoch-clock-envelope", envelope_us),
        envelope_time=at(envelope_us),
        service_arn=component.resource_id(ctx.account, ctx.region),
        event_name="SERVICE_DEPLOYMENT_COMPLETED",
        deployment_id=f"ecs-svc/{10**18 + digits}",
        updated_at=EPOCH,
        account=ctx.account,
        region=ctx.region,
    )
    render = rendered(ecs_deployment_state_change, kwargs)
    return Planned(0, envelope_us, render, "invalid", mark="implausible_time")
