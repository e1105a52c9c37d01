"""Several partition runs at once share one DuckDB file: the `dora4_warehouse` pool
(deploy/local/dagster.yaml, one slot) makes their writing steps take turns, and none fails."""

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
from conftest import ARCHIVE_DAYS, ARCHIVE_START

ROOT = Path(__file__).resolve().parents[1]
RUN_ONE_PARTITION = """
import sys
import dagster as dg
from dora4_pipeline.definitions import defs
result = defs.resolve_job_def("dora4_daily").execute_in_process(
    instance=dg.DagsterInstance.get(), partition_key=sys.argv[1], raise_on_error=False
)
sys.exit(0 if result.success else 1)
"""


def test_partition_runs_launched_together_take_turns_on_the_warehouse(generated, tmp_path):
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
    days = [ARCHIVE_START + timedelta(days=n) for n in range(ARCHIVE_DAYS)]
    # Set up once, as the README says: the instance's storage and the pool's one slot.
    dagster = Path(sys.executable).with_name("dagster")
    setup = [str(dagster), "instance", "concurrency", "set", "dora4_warehouse", "1"]
    subprocess.run(setup, env=env, check=True, capture_output=True)
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_ONE_PARTITION, day.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for day in days
    ]
    logs = [run.communicate(timeout=600)[0] for run in runs]
    failed = [log for run, log in zip(runs, logs, strict=True) if run.returncode]
    assert not failed, "\n".join(line for line in failed[0].splitlines() if " DEBUG " not in line)
    # Steps waited for the other run's: Dagster's pool, not DuckDB's lock, took turns.
    # (With SQLite storage a slot can rarely go to two steps at once; the warehouse then
    # waits for the lock, which is the safety net, not the mechanism.)
    assert any("blocked by limit for pool dora4_warehouse" in log for log in logs)

    delivered = [generated / "archive" / f"{day:%Y/%m/%d}" for day in days]
    objects = [p for folder in delivered for p in folder.rglob("*") if p.is_file()]
    with duckdb.connect(env["DORA4_WAREHOUSE"], read_only=True) as conn:
        landed, distinct = conn.execute(
            "select count(*), count(distinct object_key) from ops.landed_objects"
        ).fetchone()
    assert landed == distinct == len(objects)
