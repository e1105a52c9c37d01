"""Schema files (dbt_like_sql/<folder>/<table>.yml) are the one home of a table's columns:
the model's select agrees with its file, the DDL, the catalog and the README's table
reference follow from it, a warehouse built by the previous release's DDL upgrades in
place, and the generic checks count hand-built bad rows, only in the days asked for."""

import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dora4_pipeline import catalog, schemas, sql
from dora4_pipeline.metrics import periods
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.schema_checks import build_schema_checks
from dora4_pipeline.spec import MetricSpec

ROOT = Path(__file__).resolve().parent.parent
TABLES = sorted(schemas.schema_files())
WINDOW = {"start_day": date(2026, 3, 2), "end_day": date(2026, 3, 8)}

# The setup DDL of release 4cacf15, verbatim (tests/previous_release/README.md).
PREVIOUS_RELEASE = ROOT / "tests" / "previous_release"
PERIODS = {"marts.dora_weekly": "week", "marts.dora_monthly": "month"}
FACTS = ("fct_deployments", "fct_changes", "fct_failures", "fct_change_gaps",
         "deployment_frequency_daily")  # fmt: skip


def set_up(conn: duckdb.DuckDBPyConnection) -> None:
    for _, script in sql.setup_scripts():
        conn.execute(script)
    sql.build_views(conn)


def model_of(table: str) -> str:
    if table in PERIODS:
        return sql.load("periods/dora_periods")
    schema, name = table.split(".")
    return sql.load(f"{schema}/{name}")


def params_of(table: str) -> dict:
    """What the model binds: a day window, or a period model's spec, grain and level."""
    if table not in PERIODS:
        return WINDOW
    first = WINDOW["start_day"]
    return {**MetricSpec().sql_params(), "grain": PERIODS[table], "level": "team",
            "first_period": first, "last_period": first, "as_of": datetime.now(UTC)}  # fmt: skip


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    schema, name = table.split(".")
    return conn.execute(
        "select column_name, lower(data_type), is_nullable = 'NO' from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()


def test_every_mart_table_has_a_schema_file():
    marts = {"deployment_frequency_daily", "fct_deployments", "fct_changes", "fct_failures",
             "fct_change_gaps", "dora_weekly", "dora_monthly"}  # fmt: skip
    assert {f"marts.{name}" for name in marts} <= set(TABLES)


# Filled by landing/commit_batch.sql's insert over the scan's temporary tables: no select
# to bind alone; its insert is positional, so a column out of the file's order fails landing
# (tests/test_pipeline.py).
NO_SELECT = {"raw.candidate_events"}


@pytest.mark.parametrize("table", [t for t in TABLES if t not in NO_SELECT])
def test_the_model_select_agrees_with_its_schema_file(table):
    conn = duckdb.connect()
    set_up(conn)
    found = schemas.select_columns(conn, model_of(table), params_of(table))
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
        if line.startswith("| `") and f"`{table}`" in line.split(" | ")[0]
    )  # fmt: skip
    cell = re.split(r"(?<!\\)\|", row)[3]  # a `\|` inside a cell is not a cell border
    declared = {c.name for c in schemas.schema_files()[table].columns}
    named = [n for n in re.findall(r"`(\w+)`", cell) if n in declared]
    assert named == [c.name for c in schemas.schema_files()[table].columns]


def build_previous_release(path: Path) -> None:
    with duckdb.connect(str(path)) as old:
        for name in ("warehouse", "dora_periods"):
            old.execute((PREVIOUS_RELEASE / f"{name}.sql").read_text())
        old.execute(
            "insert into marts.deployment_frequency_daily values "
            "('2026-03-02', 'payments', 'checkout', 'cart', 'production', 'cart-api', 'ecs', "
            "'ecs_service', 'pci', '42', 'shop/cart', 3)"
        )
        key = "2026/03/02/10/stream-1-2026-03-02-10-00-00-abc"  # an object landed then
        old.execute(
            "insert into ops.landed_objects values (?, 'etag', 10, '2026-03-02 10:00:00+00', "
            "'2026-03-02', '2026-03-02 11:00:00+00', 'duckdb', 1, 1, 0)",
            [key],
        )
        old.execute(
            "insert into raw.candidate_events (object_key, event_id, landed_at) "
            "values (?, 'e-1', '2026-03-02 11:00:00+00')",
            [key],
        )


def test_the_previous_release_lacks_columns_the_schema_files_declare(tmp_path):
    """So the upgrade below has something to do (fct_deployments.version, fct_failures'
    link columns, candidate_events.delivered_at and the period marts' columns came after
    4cacf15)."""
    path = tmp_path / "previous.duckdb"
    build_previous_release(path)
    with duckdb.connect(str(path)) as old:
        lacking = {
            table
            for table, spec in schemas.schema_files().items()
            if {c[0] for c in table_columns(old, table)} < {c.name for c in spec.columns}
        }
    assert {"marts.fct_deployments", "marts.fct_failures", "raw.candidate_events"} <= lacking


def test_a_warehouse_of_the_previous_release_upgrades_in_place(tmp_path):
    path = tmp_path / "previous.duckdb"
    build_previous_release(path)
    warehouse = WarehouseResource(path=str(path))
    with warehouse.connect() as conn:  # today's setup over the previous release's file
        for table, spec in schemas.schema_files().items():
            found = [name for name, *_ in table_columns(conn, table)]
            assert sorted(found) == sorted(c.name for c in spec.columns), table
        read = "select deployments from marts.deployment_frequency_daily"
        assert conn.execute(read).fetchall() == [(3,)]
        # The new column, added by the derived migration, filled by setup/warehouse.sql.
        delivered = "select event_id, delivered_at from raw.candidate_events"
        assert conn.execute(delivered).fetchall() == [("e-1", datetime(2026, 3, 2, 10, tzinfo=UTC))]
        for table in FACTS:
            sql.materialize_window(conn, table, **WINDOW)  # every mart materializes
        assert conn.execute(read).fetchall() == []  # no deployments landed: no groups
        for grain in periods.GRAINS:
            periods.materialize_periods(conn, grain, MetricSpec(), date(2026, 3, 2),
                                        date(2026, 3, 2))  # fmt: skip


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


def test_every_table_asset_with_a_schema_file_has_its_schema_tests_check():
    from dora4_pipeline.assembly import build_definitions
    from dora4_pipeline.settings import Settings

    defs = build_definitions(Settings())
    checked = {
        key.asset_key
        for c in defs.asset_checks
        for key in c.check_keys
        if key.name == "schema_tests"
    }
    # marts.fct_change_gaps is filled by the fct_changes asset: no asset of its own to check.
    # raw.candidate_events has no day to scope a check by (and only not_null tests).
    expected = {dg.AssetKey(t.split(".")) for t in TABLES} - {
        dg.AssetKey(["marts", "fct_change_gaps"]),
        dg.AssetKey(["raw", "candidate_events"]),
    }
    assert checked == expected


def test_the_docs_table_reference_is_generated_from_the_schema_files():
    written = (ROOT / "docs" / "tables.md").read_text()
    assert written == schemas.reference_markdown(), "run: python -m dora4_pipeline.schemas"
    for table in TABLES:
        assert f"## `{table}`" in written
