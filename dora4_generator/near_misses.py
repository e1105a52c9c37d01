"""Near misses the scenario did not make yet, and the truth of every near miss by kind.

A near miss carries a deployment signal's marks and is no deployment (docs/near-misses.md).
The scenario's look-alikes, the DORA keys' ECS events and the failed custom deployments
are marked `near-miss:<kind>:…` (their Planned identity) so that truth counts the ones
written whole; this module adds Lambda dry runs (`requestParameters.dryRun: true`: the
call validated the code, nothing was deployed), a few a day, as CI pipelines make them
when they check a package before the real deploy.
"""

from __future__ import annotations

from collections import Counter
from random import Random

from dora4_generator.catalog import LAMBDA_FUNCTIONS
from dora4_generator.dora_keys import _deliverable
from dora4_generator.events import lambda_update_function_code
from dora4_generator.scenario import DAY, Scenario
from dora4_generator.specials import (
    SECOND,
    Context,
    Planned,
    lambda_kwargs,
    near_miss_identity,
    rendered,
)

DRY_RUNS_PER_DAY = 3


class NearMisses:
    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.ctx = Context(Random(f"{seed}:near-misses"), scenario.ctx.account, scenario.ctx.region)
        self.turn = 0

    def plan_day(self, day_index: int) -> list[Planned]:
        day_us = self.scenario.start_us + day_index * DAY
        return [self._dry_run(day_us) for _ in range(DRY_RUNS_PER_DAY)]

    def _dry_run(self, day_us: int) -> Planned:
        ctx = self.ctx
        change_us = ctx.between(day_us, day_us + DAY)
        change_us -= change_us % SECOND
        function = ctx.rng.choice(LAMBDA_FUNCTIONS)
        kwargs = lambda_kwargs(
            ctx, function, change_us, self.turn, publish=ctx.rng.random() < 0.5, dry_run=True
        )
        self.turn += 1
        arrival = _deliverable(
            change_us + ctx.between(20 * SECOND, 300 * SECOND), self.scenario.start_us
        )
        return Planned(
            arrival, change_us, rendered(lambda_update_function_code, kwargs), "lookalike",
            near_miss_identity("lambda_dry_run", f"lambda:{kwargs['event_id']}"),
        )  # fmt: skip


def near_miss_counts(survived: set[str], ecs_failed: list[dict]) -> dict[str, int]:
    """Near misses by kind: the records marked `near-miss:<kind>:…` that were written whole,
    and the ECS FAILED events (DoraKeys tracks those under its own identity)."""
    counts = Counter(i.split(":")[1] for i in survived if i.startswith("near-miss:"))
    counts["ecs_failed"] += len(
        {e["deployment_id"] for e in ecs_failed if e["identity"] in survived}
    )
    return dict(sorted(counts.items()))
