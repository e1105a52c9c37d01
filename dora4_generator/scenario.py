"""Which events happen on which day, when each reaches Firehose, and the truth about them.

Noise is not planned here (the writer draws it window by window); only the deployments,
look-alikes, late noise and planted damage are, a day at a time, so memory holds about
two days of those and never a day of noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from random import Random

from dora4_generator.catalog import (
    ECS_SERVICES,
    EKS_DEPLOYMENTS,
    LAMBDA_FUNCTIONS,
    Component,
)
from dora4_generator.clocks import epoch_clock_deployment
from dora4_generator.codedeploy import CodeDeployPlanner
from dora4_generator.deployments import (
    Deployment,
    deployment,
    missing_deployment_id,
    resend,
)
from dora4_generator.eks_episodes import EksEpisodes
from dora4_generator.firehose import BUFFER_SECONDS, EPOCH
from dora4_generator.lookalikes import LOOKALIKES, lookalike
from dora4_generator.noise import NoiseMaker
from dora4_generator.specials import SECOND, Context, Planned

HOUR = 3600 * SECOND
DAY = 24 * HOUR
WINDOW = BUFFER_SECONDS * SECOND
WINDOWS_PER_DAY = DAY // WINDOW
LATE_SHARE = 0.05  # of deployments and look-alikes, delivered 1 to 20 hours late
LATE_NOISE_SHARE = 0.0005
DUPLICATE_SHARE = 0.03  # deployments delivered twice, byte-identical
RESEND_SHARE = 0.10  # EKS deployments the exporter sends again with a new envelope
MAX_DELAY = 23 * HOUR + 30 * 60 * SECOND  # nothing arrives 24 h or more after its time
# Damage planted on the first day, by five-minute buffer window (index within the day).
CORRUPTIONS = {
    "truncated_gzip": 36,  # 03:00
    "malformed_record": 72,  # 06:00
    "not_an_event": 108,  # 09:00
    "missing_field": 144,  # 12:00
    "empty_object": 180,  # 15:00
}
_SOURCES = ("lambda", "ecs", "eks", "lambda", "ecs", "eks", "lambda", "lambda", "ecs", "eks")
_BY_SOURCE = {"lambda": LAMBDA_FUNCTIONS, "ecs": ECS_SERVICES, "eks": EKS_DEPLOYMENTS}


def day_start_us(day: date) -> int:
    return (datetime.combine(day, time(), tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)


def window_of(micros: int) -> int:
    return micros // WINDOW


@dataclass
class Volume:
    """How a day's events split: counted deployments, look-alikes, noise."""

    deployments: int
    lookalikes: int
    late_noise: int
    window_noise: list[int]  # per five-minute window, busier by day

    @classmethod
    def of(cls, events_per_day: int, deployment_share: float) -> Volume:
        deployments = round(events_per_day * deployment_share)
        noise = max(0, events_per_day - 2 * deployments)
        late = round(noise * LATE_NOISE_SHARE)
        return cls(deployments, deployments, late, _diurnal(noise - late))


def _diurnal(total: int) -> list[int]:
    """`total` spread over the day's windows, twice as busy at noon as at midnight."""
    weights = [
        2 - math.cos(2 * math.pi * (i + 0.5) / WINDOWS_PER_DAY) for i in range(WINDOWS_PER_DAY)
    ]
    scale, counts, running, placed = total / sum(weights), [], 0.0, 0
    for weight in weights:
        running += weight * scale
        counts.append(round(running) - placed)
        placed += counts[-1]
    return counts


class Scenario:
    """Plans each day's special records and keeps the truth rows of every deployment."""

    def __init__(
        self,
        *,
        start: date,
        events_per_day: int,
        deployment_share: float,
        corrupt: bool,
        account: str,
        region: str,
        seed: int,
    ) -> None:
        rng = Random(f"{seed}:scenario")
        self.ctx = Context(rng, account, region)
        self.start_us = day_start_us(start)
        self.volume = Volume.of(events_per_day, deployment_share)
        self.corrupt = corrupt
        self.noise = NoiseMaker(account=account, region=region, rng=rng)
        self.truth: dict[str, dict] = {}  # deployment_id -> row, every one planned
        self.made: list[Deployment] = []  # every deployment planned, for dora_keys.py
        self.eks = EksEpisodes(self.ctx)  # rollouts' scale-ups, scale-to-zero, templates
        self.codedeploy = CodeDeployPlanner(seed, account, region, self.truth)

    def plan_day(self, day_index: int) -> list[Planned]:
        day_us = self.start_us + day_index * DAY
        planned = self._deployments(day_us) + self._lookalikes(day_us) + self._late_noise(day_us)
        planned += self.codedeploy.plan_day(day_us, self.volume.deployments)
        if self.corrupt and day_index == 0:
            planned += self._damage(day_us)
        return planned + self.eks.plan_day(day_us, self.truth, self.corrupt)

    # deployments ---------------------------------------------------------------------
    def _deployments(self, day_us: int) -> list[Planned]:
        ctx, count = self.ctx, self.volume.deployments
        edge = min(count // 4, max(1, count // 50))
        last_hour = min(2, count - 2 * edge)
        times = [(ctx.between(day_us, day_us + 300 * SECOND), False) for _ in range(edge)]
        times += [
            (ctx.between(day_us + DAY - 300 * SECOND, day_us + DAY), False) for _ in range(edge)
        ]
        times += [
            (ctx.between(day_us + DAY - HOUR, day_us + DAY - 300 * SECOND), True)
            for _ in range(last_hour)
        ]
        times += [(ctx.between(day_us, day_us + DAY), False) for _ in range(count - len(times))]
        out: list[Planned] = []
        first_eks = True
        for index, (change_us, late) in enumerate(times):
            component = self._component(_SOURCES[index % len(_SOURCES)])
            made = self._deployment(component, change_us, index)
            self._deliver(made.planned, late=late or ctx.rng.random() < LATE_SHARE)
            out.append(made.planned)
            if index == 1 or ctx.rng.random() < DUPLICATE_SHARE:
                out.append(self._duplicate(made.planned))
            if component.kind == "k8s_deployment" and (
                first_eks or ctx.rng.random() < RESEND_SHARE
            ):
                out.append(self._resend(made))
                first_eks = False
        return out

    def _component(self, source: str) -> Component:
        return self.ctx.rng.choice(_BY_SOURCE[source])

    def _deployment(self, component: Component, change_us: int, index: int) -> Deployment:
        delay = SECOND * self.ctx.rng.randrange(1, 9)
        made = self.eks.rollout(deployment(self.ctx, component, change_us, index, delay))
        self.truth[made.planned.identity] = made.truth
        self.made.append(made)
        return made

    def _deliver(self, planned: Planned, *, late: bool) -> None:
        ctx = self.ctx
        if late:
            delay = ctx.between(HOUR, 20 * HOUR)
        elif planned.identity and planned.identity.startswith("lambda:"):
            delay = ctx.between(20 * SECOND, 300 * SECOND)  # CloudTrail is slower
        else:
            delay = ctx.between(SECOND, 60 * SECOND)
        planned.arrival_us = planned.envelope_us + delay

    def _duplicate(self, first: Planned) -> Planned:
        """The same bytes again, in another object (another window, maybe another hour)."""
        arrival = min(
            first.arrival_us + self.ctx.between(310 * SECOND, 3 * HOUR),
            first.envelope_us + MAX_DELAY,
        )
        if window_of(arrival) == window_of(first.arrival_us):
            arrival = first.arrival_us + WINDOW
        return Planned(
            arrival, first.envelope_us, first.render, first.role, first.identity, copy=True
        )

    def _resend(self, made: Deployment) -> Planned:
        envelope_us = made.planned.envelope_us + SECOND * self.ctx.rng.randrange(30, 7200)
        again = resend(self.ctx, made, envelope_us)
        again.arrival_us = envelope_us + self.ctx.between(SECOND, 60 * SECOND)
        return again

    # look-alikes and late noise ---------------------------------------------------------
    def _lookalikes(self, day_us: int) -> list[Planned]:
        ctx, kinds, out = self.ctx, list(LOOKALIKES), []
        for index in range(self.volume.lookalikes):
            turn, kind = divmod(index, len(kinds))
            component = self._component(LOOKALIKES[kinds[kind]])
            change_us = ctx.between(day_us, day_us + DAY)
            made = lookalike(ctx, kinds[kind], component, change_us, turn)
            self._deliver(made, late=ctx.rng.random() < LATE_SHARE)
            out.append(made)
        return out

    def _late_noise(self, day_us: int) -> list[Planned]:
        out = []
        for _ in range(self.volume.late_noise):
            seconds = self.ctx.between(day_us, day_us + DAY) // SECOND
            text = self.noise.render(seconds)
            planned = Planned(0, seconds * SECOND, partial(str, text), "noise")
            self._deliver(planned, late=True)
            out.append(planned)
        return out

    # planted damage (first day only) ----------------------------------------------------
    def _damage(self, day_us: int) -> list[Planned]:
        def at(name: str, offset_s: int) -> int:
            return day_us + CORRUPTIONS[name] * WINDOW + offset_s * SECOND

        out = [self._planted(at("truncated_gzip", 5 + 40 * k), k, "truncate") for k in range(6)]
        out += [
            self._planted(at("malformed_record", s), k, None) for k, s in enumerate((20, 60, 100))
        ]
        cut = self.noise.render(at("malformed_record", 55) // SECOND)
        out.append(
            Planned(
                at("malformed_record", 60),
                at("malformed_record", 55),
                partial(str, cut),
                "noise",
                mark="cut",
                rank=0,
            )
        )
        out += [
            self._planted(at("not_an_event", 30), 0, None),
            self._planted(at("not_an_event", 90), 1, "not_an_event"),
        ]
        broken = missing_deployment_id(self.ctx, ECS_SERVICES[0], at("missing_field", 38))
        broken.arrival_us = at("missing_field", 40)
        out.append(broken)
        epoch = epoch_clock_deployment(self.ctx, ECS_SERVICES[1], at("missing_field", 60))
        epoch.arrival_us = at("missing_field", 62)
        out.append(epoch)
        out.append(
            Planned(at("empty_object", 150), at("empty_object", 150), str, "empty", mark="empty"),
        )
        return out

    def _planted(self, arrival_us: int, index: int, mark: str | None) -> Planned:
        """A deployment delivered exactly at `arrival_us`, never duplicated."""
        component = self._component(("lambda", "ecs", "eks")[index % 3])
        made = self._deployment(component, arrival_us - 30 * SECOND, index)
        made.planned.arrival_us, made.planned.mark = arrival_us, mark
        return made.planned
