"""The warehouse's connections (resources/warehouse.py): a step's connection is a cursor of
one in-memory DuckDB instance per process that attaches the file while in use. What must
hold as before: another process finds the file free between steps and locked during one,
a lock makes a step wait (not fail, not spin), and what one connection writes the next
one reads, also when the file is opened directly as analysts and reports do."""

import subprocess
import sys
import threading
import time

import duckdb

from dora4_pipeline.resources.warehouse import WarehouseResource

# Another process opens the file read-write and says whether it could.
OPEN_ELSEWHERE = """
import sys, duckdb
try:
    duckdb.connect(sys.argv[1]).close()
except duckdb.IOException as error:
    print("locked" if "lock" in str(error).lower() else f"error: {error}")
else:
    print("free")
"""


def opened_elsewhere(path) -> str:
    found = subprocess.run(
        [sys.executable, "-c", OPEN_ELSEWHERE, str(path)], capture_output=True, text=True
    )
    return found.stdout.strip() or found.stderr


def test_the_file_is_locked_during_a_connection_and_free_between_them(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = WarehouseResource(path=str(path))
    with warehouse.connect() as conn:
        conn.execute("create table ops.probe as select 41 as n")
        assert opened_elsewhere(path) == "locked"
    assert opened_elsewhere(path) == "free"
    with warehouse.connect() as conn:
        conn.execute("update ops.probe set n = n + 1")
        with warehouse.connect() as inner:  # a step's helper connecting again
            assert inner.execute("select n from ops.probe").fetchone() == (42,)
        assert opened_elsewhere(path) == "locked"  # still held by the outer connection
    assert opened_elsewhere(path) == "free"
    with duckdb.connect(str(path), read_only=True) as direct:  # as reports open it
        assert direct.execute("select n from ops.probe").fetchone() == (42,)
        (views,) = direct.execute(
            "select count(*) from duckdb_views() where schema_name = 'staging'"
        ).fetchone()
        assert views > 0  # the staging views, created through the attachment, resolve here
        direct.execute("select count(*) from staging.stg_deployment_near_misses").fetchone()


def test_a_connection_waits_while_another_process_holds_the_file(tmp_path, caplog):
    path = tmp_path / "w.duckdb"
    warehouse = WarehouseResource(path=str(path))
    with warehouse.connect():
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); "
            "print('held', flush=True); time.sleep(1.5)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with warehouse.connect() as conn:
        waited = time.monotonic() - started
        assert conn.execute("select 1").fetchone() == (1,)
    holder.wait(timeout=30)
    assert waited > 0.5  # it waited for the holder to exit, rather than failing
    waits = [r.getMessage() for r in caplog.records if "is locked by another process" in r.message]
    assert waits and all("waiting" in w for w in waits)  # slept and said so, never spun


def test_threads_share_one_attachment_and_release_it_when_all_are_done(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = WarehouseResource(path=str(path))
    with warehouse.connect() as conn:
        conn.execute("create table ops.hits (n integer)")
    inside, release = threading.Barrier(3), threading.Event()

    def step(n: int) -> None:
        with warehouse.connect() as conn:
            conn.execute("insert into ops.hits values (?)", [n])
            inside.wait(timeout=30)
            release.wait(timeout=30)

    threads = [threading.Thread(target=step, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=30)
    assert opened_elsewhere(path) == "locked"
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert opened_elsewhere(path) == "free"
    with duckdb.connect(str(path), read_only=True) as direct:
        assert direct.execute("select list(n order by n) from ops.hits").fetchone() == ([0, 1],)
