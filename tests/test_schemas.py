"""Schema files (dbt_like_sql/<folder>/<table>.yml) are the one home of a table's columns:
the model's select agrees with its file, the DDL, the catalog and the README's table
reference follow from it, a warehouse built by the previous release's DDL upgrades in
place, and the generic checks count hand-built bad rows, only in the days asked for."""

import dataclasses
import re
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dora4_pipeline import catalog, schemas, sql
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.schema_checks import build_schema_checks

ROOT = Path(__file__).resolve().parent.parent
TABLES = sorted(schemas.schema_files())
WINDOW = {"start_day": date(2026, 3, 2), "end_day": date(2026, 3, 8)}

# What the previous release's setup/warehouse.sql created, verbatim.
PREVIOUS_DDL = """
create table if not exists marts.deployment_frequency_daily (
    day                  date not null,
    ownership_ba         varchar not null,
    ownership_pod        varchar not null,
    ownership_team       varchar not null,
    environment          varchar not null,
    component_name       varchar not null,
    event_source         varchar not null,
    component_type       varchar not null,
    compliance_namespace varchar not null,
    git_project_id       varchar not null,
    git_repository       varchar not null,
    deployments          bigint not null
);
"""


def set_up(conn: duckdb.DuckDBPyConnection) -> None:
    for _, script in sql.setup_scripts():
        conn.execute(script)
    sql.build_views(conn)


def model_of(table: str) -> str:
    schema, name = table.split(".")
    return sql.load(f"{schema}/{name}")


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    schema, name = table.split(".")
    return conn.execute(
        "select column_name, lower(data_type), is_nullable = 'NO' from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()


def test_there_is_a_schema_file():
    assert "marts.deployment_frequency_daily" in TABLES


@pytest.mark.parametrize("table", TABLES)
def test_the_model_select_agrees_with_its_schema_file(table):
    conn = duckdb.connect()
    set_up(conn)
    found = schemas.select_columns(conn, model_of(table), WINDOW)
    assert schemas.disagreements(schemas.schema_files()[table], found) == []


def test_a_schema_file_that_disagrees_is_caught():
    spec = schemas.schema_files()["marts.deployment_frequency_daily"]
    conn = duckdb.connect()
    set_up(conn)
    found = schemas.select_columns(conn, model_of(spec.table), WINDOW)
    fewer = dataclasses.replace(spec, columns=spec.columns[:-1])
    retyped = dataclasses.replace(
        spec, columns=(*spec.columns[:-1], dataclasses.replace(spec.columns[-1], type="double"))
    )
    swapped = dataclasses.replace(
        spec, columns=(spec.columns[1], spec.columns[0], *spec.columns[2:])
    )
    assert schemas.disagreements(fewer, found) == [
        f"{spec.table}: the select returns ('deployments', 'bigint'), not in {spec.path.name}"
    ]
    assert len(schemas.disagreements(retyped, found)) == 2
    assert "order differs" in schemas.disagreements(swapped, found)[0]


@pytest.mark.parametrize("table", TABLES)
def test_the_ddl_and_the_catalog_follow_the_schema_file(table):
    spec = schemas.schema_files()[table]
    conn = duckdb.connect()
    set_up(conn)
    assert table_columns(conn, table) == [(c.name, c.type, c.not_null) for c in spec.columns]
    shown = catalog.table_schemas()[table].columns
    assert [(c.name, c.type, c.description) for c in shown] == [
        (c.name, c.type, c.description) for c in spec.columns
    ]
    assert (spec.path, 1) in catalog.sql_files(table)


@pytest.mark.parametrize("table", TABLES)
def test_the_readme_table_reference_lists_the_columns_in_order(table):
    row = next(
        line for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith(f"| `{table}` |")
    )  # fmt: skip
    named = [n for n in re.findall(r"`(\w+)`", row.split("|")[3]) if n in {c.name for c in
             schemas.schema_files()[table].columns}]  # fmt: skip
    assert named == [c.name for c in schemas.schema_files()[table].columns]


def test_a_warehouse_of_the_previous_release_upgrades_in_place(tmp_path):
    path = tmp_path / "previous.duckdb"
    with duckdb.connect(str(path)) as old:
        old.execute("create schema if not exists marts")
        old.execute(PREVIOUS_DDL)
        old.execute(
            "insert into marts.deployment_frequency_daily values "
            "('2026-03-02', 'payments', 'checkout', 'cart', 'production', 'cart-api', 'ecs', "
            "'ecs_service', 'pci', '42', 'shop/cart', 3)"
        )
    with duckdb.connect(str(path)) as conn:
        set_up(conn)  # today's setup over yesterday's file
        spec = schemas.schema_files()["marts.deployment_frequency_daily"]
        assert table_columns(conn, spec.table) == [
            (c.name, c.type, c.not_null) for c in spec.columns
        ]
        read = "select deployments from marts.deployment_frequency_daily"
        assert conn.execute(read).fetchall() == [(3,)]
        sql.materialize_window(conn, "deployment_frequency_daily", **WINDOW)  # rewrites its days
        assert conn.execute(read).fetchall() == []  # no deployments landed: no groups


def test_generic_checks_count_bad_rows_only_in_the_days_asked_for():
    spec = schemas.schema_files()["marts.deployment_frequency_daily"]
    conn = duckdb.connect()
    set_up(conn)
    good = ("payments", "checkout", "cart", "production", "cart-api", "ecs", "ecs_service",
            "pci", "42", "shop/cart", 1)  # fmt: skip
    bad_source = (*good[:5], "codedeploy", *good[6:])  # not an accepted event_source
    bad_type = (*good[:6], "ec2_instance", *good[7:])
    rows = [
        (date(2026, 3, 2), *good),
        (date(2026, 3, 3), *bad_source),
        (date(2026, 3, 4), *bad_type),
        (date(2026, 2, 1), *bad_source),  # outside the window: not scanned
    ]
    conn.executemany(f"insert into {spec.table} values ({', '.join('?' * 12)})", rows)  # noqa: S608
    found = schemas.violations(conn, spec, WINDOW["start_day"], WINDOW["end_day"])
    assert found["event_source accepted_values"] == 1
    assert found["component_type accepted_values"] == 1
    assert found["day not_null"] == 0 and found["deployments not_null"] == 0
    assert sum(found.values()) == 2


def test_the_schema_check_fails_on_a_value_the_file_does_not_accept(tmp_path):
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    key = dg.AssetKey(["marts", "deployment_frequency_daily"])
    [check] = [c for c in build_schema_checks() if {k.asset_key for k in c.check_keys} == {key}]
    good = ("payments", "checkout", "cart", "production", "cart-api", "ecs", "ecs_service",
            "pci", "42", "shop/cart", 1)  # fmt: skip
    insert = (
        "insert into marts.deployment_frequency_daily values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    with warehouse.connect() as conn:
        conn.execute(insert, [date(2026, 3, 2), *good])
    assert check(warehouse=warehouse).passed
    with warehouse.connect() as conn:
        conn.execute(insert, [date(2026, 3, 3), *good[:5], "codedeploy", *good[6:]])
    result = check(warehouse=warehouse)
    assert (
        not result.passed and "event_source accepted_values | 1" in result.metadata["failing"].value
    )
