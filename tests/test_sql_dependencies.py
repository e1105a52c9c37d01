"""The view models' dependencies, as sql.dependencies reads them from each model's text,
are exactly what DuckDB needs to create the view: every found reference is necessary (the
view cannot be created without it, so no reference hides in a comment) and together they
suffice (the view is created from an empty warehouse holding only them). DuckDB binds a
view's query when the view is created, so a missing relation fails there."""

import duckdb
import pytest

from dora4_pipeline import sql

FOLDERS = {"staging": "staging", "views": "marts"}  # folder → schema its views go to
CASES = [(folder, name) for folder in FOLDERS for name in sql.view_models(folder)]


def empty_warehouse(folder: str) -> duckdb.DuckDBPyConnection:
    """The setup DDL only; for analyst views, the staging views they may read too."""
    conn = duckdb.connect()
    for _, script in sql.setup_scripts():
        conn.execute(script)
    if folder == "views":
        sql.build_views(conn)
        for name in sql.view_models("views"):
            conn.execute(f"drop view marts.{name}")
    return conn


def closure(folder: str, names: set[str]) -> set[str]:
    deps = sql.dependencies(folder)
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(deps[name])
    return found


def create(conn: duckdb.DuckDBPyConnection, folder: str, names: set[str]) -> None:
    models = sql.view_models(folder)
    for name in sql.view_order(folder):
        if name in names:
            conn.execute(f"create view {FOLDERS[folder]}.{name} as {models[name]}")


@pytest.mark.parametrize(("folder", "name"), CASES, ids=[f"{f}/{n}" for f, n in CASES])
def test_the_found_dependencies_suffice_and_each_is_needed(folder, name):
    deps = sql.dependencies(folder)[name]
    conn = empty_warehouse(folder)
    create(conn, folder, closure(folder, {name}))  # raises if a dependency was missed

    for missing in sorted(deps):
        conn = empty_warehouse(folder)
        others = {
            n for n in closure(folder, deps - {missing}) if missing not in closure(folder, {n})
        }
        create(conn, folder, others)
        with pytest.raises(duckdb.CatalogException, match=missing):
            create(conn, folder, {name})


def test_every_view_model_is_covered():
    assert {name for _, name in CASES} >= {"stg_deployment_events", "deployment_frequency_by_pod"}
    assert len(CASES) == sum(1 for f in FOLDERS for _ in sql.SQL_ROOT.glob(f"{f}/*.sql"))
