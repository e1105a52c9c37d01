"""One schema file per table, beside its model, in dbt's spirit: `dbt_like_sql/<folder>/
<table>.yml` names the table and, per column, its `name`, `type`, `description` and
`tests` (`not_null`, `unique`, `{accepted_values: [...]}`).

Everything else about the table's columns is derived from that file, so a column is
written once: the DDL (`ddl`, run with the setup models), the Dagster column schema
(catalog.py reads the warehouse the DDL built and the DDL's column comments), and the
generic checks (`violations`). tests/test_schemas.py fails when a model's select and its
schema file disagree. A table without a schema file keeps its DDL in dbt_like_sql/setup/.

Migrations: the DDL is `create table if not exists` followed by `alter table ... add
column if not exists` for every column of the file, so a warehouse built by an older
release gains the columns it lacks when it is set up (no hand-written alter steps);
tests/test_schemas.py opens a warehouse built by the previous release's DDL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import yaml

import dbt_like_sql

_TYPES = {"date", "varchar", "bigint", "integer", "double", "boolean", "timestamptz", "json"}
_TESTS = {"not_null", "unique", "accepted_values"}
# A file's short type name -> the name DuckDB reports (information_schema, describe).
_DUCKDB_NAMES = {"timestamptz": "timestamp with time zone"}
# libyaml's safe loader where PyYAML was built with it: the same documents, read ten times
# faster (every process that builds the code location reads every schema file).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    not_null: bool
    unique: bool
    accepted_values: tuple[str, ...] | None
    default: str | None = None  # a SQL literal: what rows existing before the column hold


@dataclass(frozen=True)
class TableSchema:
    table: str  # schema-qualified: marts.deployment_frequency_daily
    description: str
    columns: tuple[Column, ...]
    path: Path

    @property
    def window_column(self) -> str | None:
        """The date a run replaces rows by: `day` for facts, `period_start` for periods;
        None for a table without one (raw.candidate_events: no schema_tests check)."""
        names = [c.name for c in self.columns]
        return next((n for n in ("day", "period_start") if n in names), None)


def _column(raw: dict, where: str) -> Column:
    name, kind = raw["name"], str(raw["type"]).lower()
    if kind not in _TYPES:
        raise ValueError(f"{where}: column {name} has type {kind!r}, not one of {sorted(_TYPES)}")
    tests = {}
    for test in raw.get("tests", []):
        key, value = next(iter(test.items())) if isinstance(test, dict) else (test, True)
        if key not in _TESTS:
            raise ValueError(f"{where}: column {name} has unknown test {key!r}")
        tests[key] = value
    accepted = tests.get("accepted_values")
    return Column(
        name=name,
        type=_DUCKDB_NAMES.get(kind, kind),
        description=" ".join(str(raw.get("description", "")).split()),
        not_null=bool(tests.get("not_null")),
        unique=bool(tests.get("unique")),
        accepted_values=tuple(str(v) for v in accepted) if accepted else None,
        default=str(raw["default"]) if "default" in raw else None,
    )


def load(path: Path) -> list[TableSchema]:
    """The tables a file describes: `name`, or several with the same columns (`names`, as
    marts.dora_weekly and marts.dora_monthly)."""
    raw = yaml.load(path.read_text(), Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    where = str(path.relative_to(dbt_like_sql.ROOT))
    columns = tuple(_column(c, where) for c in raw["columns"])
    description = " ".join(str(raw.get("description", "")).split())
    names = raw["names"] if "names" in raw else [raw["name"]]
    return [
        TableSchema(table=n, description=description, columns=columns, path=path) for n in names
    ]


@cache
def schema_files() -> dict[str, TableSchema]:
    """Every table with a schema file, by table name; adding a table is adding a file."""
    found = [t for p in sorted(dbt_like_sql.ROOT.glob("*/*.yml")) for t in load(p)]
    return {t.table: t for t in found}


def ddl(table: TableSchema) -> str:
    """`create table if not exists`, one column a line with its description as a trailing
    comment (the form catalog.py reads descriptions from); then the migration: `alter table
    ... add column if not exists` for every column, so a table built by an older release
    gains the columns it lacks (no-ops on a table this DDL just created). An added column
    is nullable (DuckDB adds no constraint to existing rows); the not_null test, run as an
    asset check, still counts its NULLs."""
    lines = [
        f"    {c.name} {c.type}{_default(c)}{' not null' if c.not_null else ''}"
        f"{',' if i < len(table.columns) - 1 else ''} -- {c.description}"
        for i, c in enumerate(table.columns)
    ]
    body = "\n".join(lines)
    added = [
        f"alter table {table.table} add column if not exists {c.name} {c.type}{_default(c)};"
        for c in table.columns
    ]
    loosened = [  # a column the file no longer tests not_null (e.g. r2's per-week median)
        f"alter table {table.table} alter column {c.name} drop not null;"
        for c in table.columns
        if not c.not_null
    ]
    migration = "\n".join(added + loosened)
    schema = table.table.split(".")[0]
    create = (
        f"create schema if not exists {schema};\n"
        f"create table if not exists {table.table} (\n{body}\n);"
    )
    return f"-- {table.description}\n{create}\n{migration}"


def _default(column: Column) -> str:
    return f" default {column.default}" if column.default is not None else ""


def violations(
    conn: duckdb.DuckDBPyConnection, table: TableSchema, first: date, last: date
) -> dict[str, int]:
    """Rows of [first, last] breaking each generic test, by `column test`; only the days
    asked for are scanned. Values are bound; only names from the schema file are formatted."""
    window = f"from {table.table} where {table.window_column} between ? and ?"  # noqa: S608
    found = {}
    for c in table.columns:
        if c.not_null:
            query = f"select count(*) {window} and {c.name} is null"
            found[f"{c.name} not_null"] = conn.execute(query, [first, last]).fetchone()[0]
        if c.unique:
            query = f"select count(*) - count(distinct {c.name}) {window}"
            found[f"{c.name} unique"] = conn.execute(query, [first, last]).fetchone()[0]
        if c.accepted_values:
            query = f"select count(*) {window} and {c.name} not in (select unnest(?))"
            params = [first, last, list(c.accepted_values)]
            found[f"{c.name} accepted_values"] = conn.execute(query, params).fetchone()[0]
    return found


def select_columns(conn: duckdb.DuckDBPyConnection, select: str, params: dict) -> list[tuple]:
    """(name, type) of what a model's select returns, as DuckDB binds it (no rows read)."""
    query = f"describe select * from ({select}) limit 0"  # noqa: S608 (a model file's text)
    relation = conn.execute(query, params).fetchall()
    return [(name, kind.lower()) for name, kind, *_ in relation]


def disagreements(table: TableSchema, columns: list[tuple]) -> list[str]:
    """Where a select's (name, type) columns differ from the schema file, in words."""
    declared = [(c.name, c.type) for c in table.columns]
    if declared == columns:
        return []
    missing = [c for c in declared if c not in columns]
    extra = [c for c in columns if c not in declared]
    if not missing and not extra:
        return [f"{table.table}: the select's column order differs from {table.path.name}"]
    return [f"{table.table}: {table.path.name} declares {c} the select lacks" for c in missing] + [
        f"{table.table}: the select returns {c}, not in {table.path.name}" for c in extra
    ]


def reference_markdown() -> str:
    """docs/tables.md: every table with a schema file, its columns, types, tests and
    descriptions; written by `python -m dora4_pipeline.schemas`, and tests/test_schemas.py
    fails when the committed file is not what the schema files give."""
    parts = [
        "# Table reference (generated from the schema files)",
        "",
        "Written by `python -m dora4_pipeline.schemas` from `dbt_like_sql/*/<table>.yml`; do not",
        "edit by hand (docs/schemas.md). Tables without a schema file are in the README's",
        '"DuckDB tables".',
    ]
    for spec in schema_files().values():
        rows = []
        for c in spec.columns:
            tests = [t for t, on in (("not_null", c.not_null), ("unique", c.unique)) if on]
            if c.accepted_values:
                tests.append("accepted_values: " + ", ".join(c.accepted_values))
            text = c.description.replace("|", "\\|")
            rows.append((f"`{c.name}`", c.type, "; ".join(tests), text))
        where = f"dbt_like_sql/{spec.path.parent.name}/{spec.path.name}"
        parts += ["", f"## `{spec.table}`", "", f"{spec.description} (`{where}`)", ""]
        parts.append(_md_table(["column", "type", "tests", "description"], rows))
    return "\n".join(parts) + "\n"


def _md_table(columns: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


if __name__ == "__main__":
    (dbt_like_sql.ROOT.parent / "docs" / "tables.md").write_text(reference_markdown())
