"""Dagster's own fixed cost, with nothing of the pipeline in it: what a `dora4 run` cannot
go below while Dagster executes its steps (docs/performance.md, "Fixed costs, cut").

Defines N no-op daily-partitioned assets in a chain (and M no-op checks on them), then in
this one process: imports Dagster, builds the job, creates `DagsterInstance.ephemeral()`
and runs the job twice with `execute_in_process` (the in-process executor, one partition
range, console logs at INFO as `dora4 run` sets them). Prints each part's seconds to
stderr; time the whole process from outside to see the interpreter's start and exit too.

Usage: /usr/bin/time -f %e python benchmarks/dagster_floor.py [ASSETS [CHECKS]]
  e.g. 1 0 (the smallest job), 22 0 or 11 12 (about the pipeline's 23 steps)
"""

import sys
import time

t0 = time.perf_counter()
import dagster as dg  # noqa: E402 (timed)

t1 = time.perf_counter()
ASSETS = int(sys.argv[1]) if len(sys.argv) > 1 else 1
CHECKS = int(sys.argv[2]) if len(sys.argv) > 2 else 0
DAY = "2026-03-16"
TAGS = {"dagster/asset_partition_range_start": DAY, "dagster/asset_partition_range_end": DAY}
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def chain(n: int, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    assets: list[dg.AssetsDefinition] = []
    for i in range(n):

        @dg.asset(
            name=f"a{i}",
            partitions_def=partitions,
            deps=[assets[-1].key] if assets else [],
            backfill_policy=dg.BackfillPolicy.single_run(),
        )
        def step(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            context.log.info("done")
            return dg.MaterializeResult(metadata={"rows": 1})

        assets.append(step)
    return assets


def checks(m: int, n: int) -> list[dg.AssetChecksDefinition]:
    found = []
    for i in range(m):

        @dg.asset_check(asset=f"a{i % n}", name=f"c{i}")
        def check() -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True)

        found.append(check)
    return found


assets = chain(ASSETS, dg.DailyPartitionsDefinition(start_date=DAY))
job = dg.define_asset_job("floor", selection="*")
defs = dg.Definitions(
    assets=assets,
    asset_checks=checks(CHECKS, ASSETS),
    jobs=[job],
    executor=dg.in_process_executor,
)
resolved = defs.resolve_job_def("floor")
t2 = time.perf_counter()
instance = dg.DagsterInstance.ephemeral()
t3 = time.perf_counter()
resolved.execute_in_process(instance=instance, run_config=QUIET, tags=TAGS)
t4 = time.perf_counter()
resolved.execute_in_process(instance=instance, run_config=QUIET, tags=TAGS)
t5 = time.perf_counter()
print(
    f"assets={ASSETS} checks={CHECKS}: import {t1 - t0:.2f} s, define {t2 - t1:.2f} s, "
    f"ephemeral instance {t3 - t2:.2f} s, first run {t4 - t3:.2f} s, second run {t5 - t4:.2f} s",
    file=sys.stderr,
)
