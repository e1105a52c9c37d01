"""What the Dagster catalog shows: owners, column schemas that match the real tables, the SQL
behind each table, descriptions without placeholders, and no two nodes named alike."""

import re
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb

from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.settings import Settings


def _specs():
    return list(build_definitions(Settings()).resolve_all_asset_specs())


def test_every_table_asset_shows_the_columns_of_its_real_table(tmp_path):
    path = str(tmp_path / "w.duckdb")
    with WarehouseResource(path=path).connect():
        pass
    tables = [s for s in _specs() if s.key.path[0] in ("raw", "marts")]
    assert len(tables) >= 8
    with duckdb.connect(path, read_only=True) as conn:
        for spec in tables:
            schema = spec.metadata["dagster/column_schema"]
            table = ".".join(spec.key.path)
            real = conn.execute(f"describe {table}").fetchall()  # noqa: S608 (asset keys)
            assert [(c.name, c.type) for c in schema.columns] == [
                (name, kind.lower()) for name, kind, *_ in real
            ], table
            files = [
                Path(r.file_path) for r in spec.metadata["dagster/code_references"].code_references
            ]
            assert files and all(f.is_file() and f.suffix in (".sql", ".yml") for f in files), table
    described = {
        c.name: c.description
        for s in tables
        if s.key.path == ["marts", "fct_failures"]
        for c in s.metadata["dagster/column_schema"].columns
    }
    assert described["kind"].startswith("incident | rollback")


def test_assets_have_owners_rendered_descriptions_and_distinct_names():
    specs = _specs()
    assert all(s.owners for s in specs)
    # markdown swallows <word> outside code spans (the UI showed "the .analytics.duckdb")
    prose = [re.sub(r"`[^`]*`", "", s.description or "") for s in specs]
    assert all(text and "<" not in text for text in prose)
    names = Counter(s.key.path[-1] for s in specs)
    assert [name for name, n in names.items() if n > 1] == []


def test_the_demos_partitions_start_on_its_first_day_and_a_real_archives_do_not():
    demo = build_definitions(Settings.from_env({}))
    real = build_definitions(Settings.from_env({"DORA4_ARCHIVE_URI": "s3://bucket/archive/"}))
    first = {
        name: defs.get_assets_def(["marts", "fct_deployments"]).partitions_def.start.date()
        for name, defs in (("demo", demo), ("real", real))
    }
    assert first == {"demo": date(2026, 3, 2), "real": date(2025, 1, 1)}
