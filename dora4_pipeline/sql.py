"""Runs the dbt-like SQL models in dbt_like_sql/ against DuckDB, values always bound.

staging/*.sql become views (built in dependency order, found from `staging.<name>`
references: `dependencies`, proven model by model in tests/test_sql_dependencies.py),
views/*.sql analyst views over the marts, and marts/*.sql are selects with
$start_day/$end_day that fill a table's window. Adding a model is adding a file. Only
model and table names (from files in this repository) are formatted into SQL.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path

import duckdb

import dbt_like_sql
from dora4_pipeline import schemas

# The models ship as package data of `dbt_like_sql`: found the same in a source checkout,
# an editable install and a plain `pip install .` (tests/test_packaging.py builds a wheel).
SQL_ROOT: Path = dbt_like_sql.ROOT
# The warehouse's tables, in the order they are created (later files alter earlier tables).
SETUP_MODELS = (
    "setup/warehouse",
    "setup/dora_periods",
    "setup/gitlab_commits",
)
_REFERENCE = re.compile(r"\b(?:staging|marts)\.(\w+)")
_STATEMENT_END = re.compile(r";\s*\n")


def setup_scripts() -> list[tuple[Path, str]]:
    """What sets the warehouse up, in order, as (file, SQL): the DDL derived from each
    table's schema file (schemas.py), then the setup models (which may migrate those
    tables' data, as setup/warehouse.sql fills an older raw.candidate_events' new column)."""
    derived = [(table.path, schemas.ddl(table)) for table in schemas.schema_files().values()]
    return derived + [(SQL_ROOT / f"{model}.sql", load(model)) for model in SETUP_MODELS]


@cache
def load(name: str) -> str:
    """The text of dbt_like_sql/<name>.sql."""
    path = SQL_ROOT / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {name!r} not found at {path}")
    return path.read_text()


@cache
def models_fingerprint() -> str:
    """Of every setup script (schema files' DDL included), staging and view model: a changed
    file means the warehouse must be set up again (see WarehouseResource)."""
    views = [
        path for folder in ("staging", "views") for path in sorted(SQL_ROOT.glob(f"{folder}/*.sql"))
    ]
    texts = [f"{path.relative_to(SQL_ROOT)}\n{text}" for path, text in setup_scripts()] + [
        f"{path.relative_to(SQL_ROOT)}\n{path.read_text()}" for path in views
    ]
    return fingerprint(*texts)


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: commit when the block ends, roll back if it raises."""
    conn.execute("begin transaction")
    try:
        yield
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")


def run_script(conn: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Runs each statement of a multi-statement model, binding the parameters it names."""
    params = params or {}
    for statement in _STATEMENT_END.split(load(name)):
        if statement.strip():
            used = {k: v for k, v in params.items() if f"${k}" in statement}
            conn.execute(statement, used)


def build_views(conn: duckdb.DuckDBPyConnection) -> None:
    """staging/*.sql as views in schema staging; views/*.sql as analyst views in marts."""
    _build_view_folder(conn, "staging", "staging")
    _build_view_folder(conn, "views", "marts")


def view_models(folder: str) -> dict[str, str]:
    """The models of a view folder (`staging` or `views`), name → select."""
    return {p.stem: load(f"{folder}/{p.stem}") for p in sorted(SQL_ROOT.glob(f"{folder}/*.sql"))}


def dependencies(folder: str) -> dict[str, set[str]]:
    """Each view model's references to other models of its folder (`staging.<name>`,
    `marts.<name>`), read from its text; tests/test_sql_dependencies.py proves, model by
    model, that these are exactly what DuckDB needs to create the view."""
    models = view_models(folder)
    return {
        name: {ref for ref in _REFERENCE.findall(text) if ref in models and ref != name}
        for name, text in models.items()
    }


def view_order(folder: str) -> list[str]:
    """The folder's models, each after the ones it references."""
    deps = dependencies(folder)
    order: list[str] = []

    def visit(name: str, chain: tuple[str, ...] = ()) -> None:
        if name in order:
            return
        if name in chain:
            raise ValueError(f"{folder} models reference each other in a cycle: {chain}")
        for ref in sorted(deps[name]):
            visit(ref, (*chain, name))
        order.append(name)

    for name in deps:
        visit(name)
    return order


def _build_view_folder(conn: duckdb.DuckDBPyConnection, folder: str, schema: str) -> None:
    models = view_models(folder)
    for name in view_order(folder):
        conn.execute(f"create or replace view {schema}.{name} as {models[name]}")


def materialize_window(
    conn: duckdb.DuckDBPyConnection, table: str, start_day: date, end_day: date
) -> int:
    """Replace the rows of marts.<table> for [start_day, end_day] with the model's; rerunnable."""
    params = {"start_day": start_day, "end_day": end_day}
    window = f"from marts.{table} where day between $start_day and $end_day"  # noqa: S608
    model = load(f"marts/{table}")
    with transaction(conn):
        conn.execute(f"delete {window}", params)
        conn.execute(f"insert into marts.{table} by name select * from ({model})", params)  # noqa: S608
        _record_days(conn, table, start_day, end_day)
    (rows,) = conn.execute(f"select count(*) {window}", params).fetchone()
    return rows


def _record_days(conn: duckdb.DuckDBPyConnection, table: str, start_day: date, end_day: date):
    """Which days a fact table holds: the period marts mark the others' periods partial."""
    params = {"table": table, "start_day": start_day, "end_day": end_day}
    conn.execute(
        "delete from ops.materialized_days where table_name = $table "
        "and day between $start_day and $end_day",
        params,
    )
    conn.execute(
        "insert into ops.materialized_days select $table, cast(d as date), now() "
        "from generate_series(cast($start_day as timestamp), cast($end_day as timestamp), "
        "interval 1 day) as t(d)",
        params,
    )
