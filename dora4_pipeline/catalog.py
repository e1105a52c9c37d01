"""What the Dagster catalog shows about every table asset, derived in one place: its columns
(types from the setup DDL run in an in-memory DuckDB, descriptions from the DDL's trailing
comments; for a table with a schema file, both come from that file through its derived
DDL), the SQL files behind it, and its owner. A column added to the DDL appears in the
UI without another edit.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb

from dora4_pipeline import sql

# Dagster owners are e-mail addresses or `team:<name>`; the team that runs the pipeline.
OWNERS = ["team:platform-engineering"]
# Tables whose SQL is not the model named like them.
_MODELS = {
    "raw.candidate_events": ("landing/scan_objects", "landing/commit_batch"),
    "marts.dora_weekly": ("periods/dora_periods",),
    "marts.dora_monthly": ("periods/dora_periods",),
}
_CREATE = re.compile(r"create table if not exists (\w+\.\w+) \((.*?)\n\);", re.S)
_COLUMN = re.compile(r"^\s+(\w+)\s+[^-\n]*?--\s*(.+)$", re.M)


def table_metadata(key: dg.AssetKey) -> dict:
    """`dagster/column_schema` and `dagster/code_references` for an asset named after its
    table (`marts/fct_deployments` is marts.fct_deployments); nothing for other assets."""
    table = ".".join(key.path)
    schema = table_schemas().get(table)
    if schema is None:
        return {}
    return {
        "dagster/column_schema": schema,
        "dagster/code_references": dg.CodeReferencesMetadataValue(
            code_references=[
                dg.LocalFileCodeReference(file_path=str(path), line_number=line)
                for path, line in sql_files(table)
            ]
        ),
    }


@cache
def table_schemas() -> dict[str, dg.TableSchema]:
    """Every table the setup DDL creates, as Dagster column schemas."""
    conn = duckdb.connect()
    for _, script in sql.setup_scripts():
        conn.execute(script)
    comments = _column_comments()
    rows = conn.execute(
        "select table_schema || '.' || table_name, column_name, data_type, is_nullable "
        "from information_schema.columns where table_schema in ('raw', 'marts', 'ops') "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    conn.close()
    columns: dict[str, list[dg.TableColumn]] = {}
    for table, name, data_type, nullable in rows:
        columns.setdefault(table, []).append(
            dg.TableColumn(
                name=name,
                type=data_type.lower(),
                description=comments.get((table, name)),
                constraints=dg.TableColumnConstraints(nullable=nullable == "YES"),
            )
        )
    return {table: dg.TableSchema(columns=cols) for table, cols in columns.items()}


def sql_files(table: str) -> list[tuple[Path, int]]:
    """(file, line) of the DDL that creates `table` and of the models that fill it."""
    files = []
    for path, text in sql.setup_scripts():
        found = text.find(f"create table if not exists {table} ")
        if found >= 0:  # a schema file's DDL is derived: the file itself is the reference
            line = 1 if path.suffix == ".yml" else text.count("\n", 0, found) + 1
            files.append((path, line))
    schema, name = table.split(".")
    for model in _MODELS.get(table, (f"{schema}/{name}",)):
        if (sql.SQL_ROOT / f"{model}.sql").is_file():
            files.append((sql.SQL_ROOT / f"{model}.sql", 1))
    return files


def _column_comments() -> dict[tuple[str, str], str]:
    """The `-- …` at the end of a column's line in a `create table` of the setup DDL."""
    comments = {}
    for _, script in sql.setup_scripts():
        for table, body in _CREATE.findall(script):
            for column, comment in _COLUMN.findall(body):
                comments[(table, column)] = comment.strip()
    return comments
