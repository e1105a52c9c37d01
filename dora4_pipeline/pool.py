"""Who holds the `dora4_warehouse` pool's slot, and giving back the slot of a run that died.

A run killed mid-step (SIGKILL, OOM, a lost machine) cannot free the slot it claimed:
with one slot, every later writer would wait forever. Dagster's run monitoring frees the
slots of runs that *ended* (`free_slots_after_run_end_seconds`, deploy/*/dagster.yaml),
but a `dora4 run` killed outside any daemon stays STARTED. So each `dora4 run` tags its
runs with its process id and host, and while one of its steps waits for the pool it
says, on stderr, which run holds the slot; a holder that has ended, or whose process on
this host is gone, is marked failed and its slot freed. A holder elsewhere (a `dagster
dev` run, another machine) is named, and `dora4 pool --free RUN_ID` frees it by hand.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL

# A run in one of these states holds nothing any more (Dagster's own list is private).
FINISHED_STATUSES = frozenset(
    {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
)
PID_TAG = "dora4/pid"
HOST_TAG = "dora4/host"


def process_tags() -> dict[str, str]:
    """Tags of a run executed in this process: how a later run tells whether it is alive."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


@dataclass(frozen=True)
class Holder:
    run_id: str
    step_key: str
    status: str  # the run's status, or MISSING when the run was deleted
    pid: int | None
    host: str | None

    @property
    def dead(self) -> bool:
        """Certainly not running any more: ended or deleted, or its process on this host
        is gone. A run whose process we cannot see (other host, launched by Dagster) is
        never assumed dead."""
        if self.status == "MISSING" or self.status in {s.value for s in FINISHED_STATUSES}:
            return True
        if self.pid is None or self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def describe(self) -> str:
        where = f", process {self.pid} on {self.host}" if self.pid else ""
        return f"run {self.run_id} (step {self.step_key}, {self.status}{where})"


def holders(instance: dg.DagsterInstance, pool: str = WAREHOUSE_POOL) -> list[Holder]:
    info = instance.event_log_storage.get_concurrency_info(pool)
    found = []
    for slot in info.claimed_slots:
        run = instance.get_run_by_id(slot.run_id)
        tags = run.tags if run else {}
        pid = tags.get(PID_TAG)
        found.append(
            Holder(
                run_id=slot.run_id,
                step_key=slot.step_key,
                status=run.status.value if run else "MISSING",
                pid=int(pid) if pid and pid.isdigit() else None,
                host=tags.get(HOST_TAG),
            )
        )
    return found


def free_run(instance: dg.DagsterInstance, run_id: str, why: str) -> None:
    """Marks the run failed if it has not ended, then gives back every slot it holds."""
    run = instance.get_run_by_id(run_id)
    if run is not None and run.status not in FINISHED_STATUSES:
        instance.report_run_failed(run, message=f"dora4: {why}; its pool slots were freed")
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def free_by_hand(instance: dg.DagsterInstance, run_id: str) -> str:
    """`dora4 pool --free RUN_ID`: for a holder whose process the operator knows is gone."""
    if run_id not in {h.run_id for h in holders(instance)}:
        raise ConfigError(f"run {run_id} holds no slot of the pool {WAREHOUSE_POOL}")
    free_run(instance, run_id, "freed by hand with `dora4 pool --free`")
    return f"freed the slots of run {run_id} and marked it failed if it was still running"


def describe_pool(instance: dg.DagsterInstance) -> str:
    """`dora4 pool`: the limit, who holds a slot, and who waits."""
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    lines = [f"pool {WAREHOUSE_POOL}: limit {info.limit}, {len(info.claimed_slots)} held"]
    for holder in holders(instance):
        state = "not running any more: free it" if holder.dead else "running"
        lines.append(f"  held by {holder.describe()}: {state}")
    for step in info.pending_steps:
        if step.assigned_timestamp is None:  # assigned steps hold the slot, listed above
            lines.append(f"  waiting: run {step.run_id} step {step.step_key}")
    return "\n".join(lines)


class PoolWatch:
    """While `run_id` has a step waiting for the pool: name the holder (once per holder)
    and free the slot of a holder that is dead. Runs beside `execute_in_process`."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        run_id: str,
        say: Callable[[str], None] | None = None,
        interval_seconds: float = 2.0,
    ) -> None:
        self.instance = instance
        self.run_id = run_id
        self.say = say or (lambda text: print(f"dora4: {text}", file=sys.stderr, flush=True))
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._told: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="dora4-pool-watch", daemon=True)

    def __enter__(self) -> PoolWatch:
        # A throwaway instance has no other runs to wait for.
        storage = self.instance.event_log_storage
        if not self.instance.is_ephemeral and storage.supports_global_concurrency_limits:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as error:  # a watcher must never end the run
                self.say(f"could not look at the pool {WAREHOUSE_POOL}: {error}")
                return

    def check(self) -> None:
        info = self.instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        if self.run_id not in info.pending_run_ids:
            return
        for holder in holders(self.instance):
            if holder.run_id == self.run_id:
                continue
            if holder.dead:
                free_run(self.instance, holder.run_id, "its process died holding the slot")
                self.say(
                    f"{holder.describe()} died holding the pool {WAREHOUSE_POOL}'s slot: "
                    "marked it failed and freed the slot"
                )
            elif holder.run_id not in self._told:
                self._told.add(holder.run_id)
                self.say(
                    f"waiting for the pool {WAREHOUSE_POOL}: its slot is held by "
                    f"{holder.describe()}. If that run is dead, free its slot with "
                    f"`dora4 pool --free {holder.run_id}`"
                )
