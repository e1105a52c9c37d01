"""A `dora4 run` killed with SIGKILL while it holds the `dora4_warehouse` pool's only slot,
on a persistent instance with deploy/local/dagster.yaml (issue 12, item 1).

Before, the slot stayed claimed by a run that stayed STARTED, and every later run waited
forever without a word. Now the next `dora4 run` says what it waits on, sees that the
holder's process is gone, marks that run failed, frees its slot and completes.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import ARCHIVE_START
from test_pipeline import LAST, per_day_and_source

from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL

ROOT = Path(__file__).resolve().parents[2]
DORA4 = str(Path(sys.executable).with_name("dora4"))
ARGV = [DORA4, "run", "--start", ARCHIVE_START.isoformat(), "--end", LAST.isoformat()]


def wait_for(condition, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_run_killed_holding_the_pool_slot_does_not_block_the_next(generated, truth, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DORA4_ARCHIVE_URI": str(generated / "archive"),
        "DORA4_TAGS_FILE": str(generated / "tags.json"),
        "DORA4_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DORA4_PARTITIONS_START": ARCHIVE_START.isoformat(),
    }
    with dg.DagsterInstance.from_config(str(home)) as instance:

        def holders() -> list:
            return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots

        first = subprocess.Popen(ARGV, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            (slot,) = wait_for(holders, "the first run to claim the pool's slot")
            # Frozen while it holds the slot: the second run must wait, and say on what.
            first.send_signal(signal.SIGSTOP)
            second = subprocess.Popen(
                ARGV, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            wait_for(
                lambda: (
                    instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).pending_run_ids
                ),  # steps waiting for a slot, not holding one
                "the second run to wait for the pool",
            )
            time.sleep(3)  # the second run's watch looks every 2 s
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            first.kill()
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err[-3000:]
        said = [line for line in err.splitlines() if line.startswith("dora4: ")]
        assert said[0] == (
            f"dora4: waiting for the pool {WAREHOUSE_POOL}: its slot is held by run "
            f"{slot.run_id} (step {slot.step_key}, STARTED, process {first.pid} on "
            f"{socket.gethostname()}). If that run is dead, free its slot with "
            f"`dora4 pool --free {slot.run_id}`"
        )
        assert said[1].startswith(f"dora4: run {slot.run_id} (step {slot.step_key}")
        assert said[1].endswith(
            "died holding the pool dora4_warehouse's slot: marked it failed and freed the slot"
        )
        killed = instance.get_run_by_id(slot.run_id)
        assert killed.status == dg.DagsterRunStatus.FAILURE
        assert holders() == []

    assert f"{len(truth['deployments'])} deployments" in out
    with duckdb.connect(env["DORA4_WAREHOUSE"], read_only=True) as conn:
        assert per_day_and_source(conn) == truth["deployments_per_day"]
        landed, distinct = conn.execute(
            "select count(*), count(distinct object_key) from ops.landed_objects"
        ).fetchone()
    objects = [p for p in (generated / "archive").rglob("*") if p.is_file()]
    assert landed == distinct == len(objects)
