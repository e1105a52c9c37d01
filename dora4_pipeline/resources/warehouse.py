"""The DuckDB warehouse file: one connection per step, schema and staging views ensured.

A step's connection is a cursor of one in-memory DuckDB instance per process and file (an
`_Engine`), which attaches the file while a step uses it and detaches it when the last
user is done. Opening a DuckDB file with `duckdb.connect` builds a whole database instance
(its catalog of built-in functions: about 15 ms, then 3 ms to tear down), once per step;
attaching the file to an instance that lives on costs 3 ms. Detaching releases the file's
lock exactly as closing did, so between steps other processes (a run waiting its turn,
a sensor's peek) find the file free, as before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from dora4_pipeline import sql
from dora4_pipeline.settings import (
    DEFAULT_CUSTOM_SOURCE,
    DEFAULT_GITLAB_SOURCES,
    DEFAULT_MAX_CHANGE_AGE_DAYS,
    DEFAULT_MAX_CHANGE_AHEAD_DAYS,
    DEFAULT_OPSGENIE_SOURCES,
    DEFAULT_WAREHOUSE,
    alias_rows,
    analyst_copy_path,
    source_rows,
)

_LOCK_MESSAGE = "lock"
_DAMAGE = re.compile(r"corrupt|checksum", re.IGNORECASE)
# Every step that opens the file read-write runs in this Dagster pool. With a limit of 1
# (deploy/local/dagster.yaml, deploy/production/dagster.yaml), steps of concurrent runs
# take turns instead of meeting DuckDB's single-writer lock.
WAREHOUSE_POOL = "dora4_warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """DuckDB allows one writing process: a run that finds the file locked waits its turn."""

    path: str = DEFAULT_WAREHOUSE
    tag_aliases: dict[str, list[str]] = {}
    gitlab_sources: list[str] = list(DEFAULT_GITLAB_SOURCES)
    opsgenie_sources: list[str] = list(DEFAULT_OPSGENIE_SOURCES)
    custom_source: str = DEFAULT_CUSTOM_SOURCE
    max_change_age_days: int = DEFAULT_MAX_CHANGE_AGE_DAYS
    max_change_ahead_days: int = DEFAULT_MAX_CHANGE_AHEAD_DAYS
    lock_timeout_seconds: float = 900.0

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        conn = self._open()
        try:
            conn.execute("set TimeZone = 'UTC'")
            self._prepare(conn)
            yield conn
        except duckdb.Error as error:
            if _DAMAGE.search(str(error)):  # found when a damaged block is read, not at open
                raise unopenable(self.path, error) from None
            raise
        finally:
            _release(self.path, conn)

    def publish_analyst_copy(self) -> Path:
        """Replaces the analysts' copy atomically.

        DuckDB lets no process write a file that another holds open, even read-only, so
        analysts read a copy: a reader keeps the version it opened, the next opening sees
        the new one, and the pipeline never waits for them.
        """
        target = analyst_copy_path(self.path)
        staging = target.with_name(f".{target.name}.partial")
        conn = self._open()
        try:
            conn.execute(f"checkpoint {_ALIAS}")
            shutil.copyfile(self.path, staging)
            os.replace(staging, target)
        except BaseException:
            staging.unlink(missing_ok=True)  # a failed copy leaves nothing behind
            raise
        finally:
            _release(self.path, conn)
        return target

    @contextmanager
    def peek(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only look that never waits: None while a run holds the file (or before
        the first run made it). For sensors, which must answer quickly."""
        try:
            conn = duckdb.connect(self.path, read_only=True)
        except duckdb.IOException as error:
            if _LOCK_MESSAGE in str(error).lower() or not Path(self.path).exists():
                yield None
                return
            raise
        try:
            yield conn
        finally:
            conn.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        """A connection with the file attached and in use; `_release` it when done."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return _acquire(self.path, self._attach)

    def _attach(self, engine: duckdb.DuckDBPyConnection) -> None:
        """Attaches the file, waiting while another process holds it (up to the timeout)."""
        deadline = time.monotonic() + self.lock_timeout_seconds
        delay = 0.2
        while True:
            try:
                engine.execute(f"attach ? as {_ALIAS}", [self.path])
                return
            except duckdb.IOException as error:
                if _LOCK_MESSAGE not in str(error).lower():
                    raise unopenable(self.path, error) from None
                if time.monotonic() > deadline:
                    raise
                dg.get_dagster_logger().info(
                    f"warehouse {self.path} is locked by another process; waiting {delay:.1f}s"
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            except duckdb.Error as error:  # a damaged file: checksum, header, version
                raise unopenable(self.path, error) from None

    def _prepare(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Tables, configuration and views, unless this file already has them as this code
        and configuration define them: every step connects, and most find nothing to do."""
        fingerprint = sql.fingerprint(
            sql.models_fingerprint(),
            json.dumps(
                [
                    self.tag_aliases,
                    self._source_rows(),
                    self.max_change_age_days,
                    self.max_change_ahead_days,
                ]
            ),
        )
        try:
            prepared = conn.execute("select fingerprint from ops.prepared").fetchone()
        except duckdb.CatalogException:
            prepared = None
        if prepared and prepared[0] == fingerprint:
            return
        for _, script in sql.setup_scripts():
            conn.execute(script)
        self._sync_configuration(conn)
        sql.build_views(conn)
        conn.execute(
            "create or replace table ops.prepared as select ? as fingerprint, now() as at",
            [fingerprint],
        )

    def _sync_configuration(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Tag key aliases, webhook sources and the change-time window as tables: SQL
        models read them, bound."""
        with sql.transaction(conn):
            conn.execute("delete from ops.tag_key_aliases")
            conn.executemany(
                "insert into ops.tag_key_aliases values (?, ?, ?)", alias_rows(self.tag_aliases)
            )
            conn.execute("delete from ops.event_sources")
            conn.executemany("insert into ops.event_sources values (?, ?, ?)", self._source_rows())
            conn.execute("delete from ops.change_time_window")
            conn.execute(
                "insert into ops.change_time_window values (?, ?)",
                [self.max_change_age_days, self.max_change_ahead_days],
            )

    def _source_rows(self) -> list[tuple[str, str, bool]]:
        return source_rows(self.gitlab_sources, self.opsgenie_sources, self.custom_source)


_ALIAS = "warehouse"  # the attached file's catalog name; the SQL never names it
_ENGINES: dict[str, _Engine] = {}
# Guards every engine's count and attachment; attaching may wait for another process's
# lock while holding it, which only delays this process's other users of a warehouse.
_ENGINES_LOCK = threading.Lock()


class _Engine:
    """One process's in-memory DuckDB instance for one warehouse file. The file is attached
    while at least one connection uses it (steps run one after another, but a step's
    helpers or another thread may overlap) and detached when the last one is released."""

    def __init__(self, path: str) -> None:
        # Spill beside the file, where DuckDB puts a file database's temporary data.
        self.db = duckdb.connect(config={"temp_directory": f"{path}.tmp"})
        self.users = 0


def _acquire(path: str, attach) -> duckdb.DuckDBPyConnection:
    key = os.path.abspath(path)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            for other in [k for k, e in _ENGINES.items() if e.users == 0]:
                _ENGINES.pop(other).db.close()  # one file per process in production
            engine = _ENGINES[key] = _Engine(key)
        if engine.users == 0:
            attach(engine.db)
        engine.users += 1
    try:
        conn = engine.db.cursor()
        conn.execute(f"use {_ALIAS}")
    except BaseException:
        _leave(engine)
        raise
    return conn


def _release(path: str, conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.close()
    finally:
        _leave(_ENGINES[os.path.abspath(path)])


def _leave(engine: _Engine) -> None:
    with _ENGINES_LOCK:
        engine.users -= 1
        if engine.users == 0:
            try:
                engine.db.execute(f"detach {_ALIAS}")  # releases the file's lock
            except BaseException:  # e.g. its checkpoint failed: drop the whole instance
                for key in [k for k, e in _ENGINES.items() if e is engine]:
                    del _ENGINES[key]
                engine.db.close()
                raise


class WarehouseUnreadable(Exception):
    """DuckDB cannot open or read the warehouse file; the message names the file and the
    way back (the analysts' copy)."""


def unopenable(path: str, error: Exception) -> WarehouseUnreadable:
    copy = analyst_copy_path(path)
    message = " ".join(str(error).split())
    return WarehouseUnreadable(
        f"the warehouse {path} cannot be read: {message}. If the file is damaged, restore "
        f"it from the analysts' copy {copy} (docs/operations.md, 'Restore the warehouse')"
    )
