"""The generic tests of each table's schema file (schemas.py) as one Dagster asset check
per table: `not_null`, `unique` and `accepted_values` per column, written once in the
file, not again as a check."""

import dagster as dg

from dora4_pipeline import schemas
from dora4_pipeline.markdown import table as md_table
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_check


def build_schema_checks(
    asset_keys: set[dg.AssetKey] | None = None,
) -> list[dg.AssetChecksDefinition]:
    """One check per table with a schema file that is an asset of `asset_keys` (all when
    None): marts.fct_change_gaps is filled by the fct_changes asset, and a check on a key
    that no asset has would make Dagster invent an empty one."""
    specs = schemas.schema_files().values()
    return [
        _schema_check(spec)
        for spec in specs
        if spec.window_column
        and (asset_keys is None or dg.AssetKey(spec.table.split(".")) in asset_keys)
    ]


def _schema_check(spec: schemas.TableSchema) -> dg.AssetChecksDefinition:
    @warehouse_check(
        name="schema_tests",
        asset=dg.AssetKey(spec.table.split(".")),
        description=(
            f"The column tests of dbt_like_sql/{spec.path.parent.name}/{spec.path.name} "
            "(not_null, unique, accepted_values), over the days the table holds."
        ),
    )
    def schema_tests(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            first, last = conn.execute(
                f"select min({spec.window_column}), max({spec.window_column}) from {spec.table}"  # noqa: S608 (from the file)
            ).fetchone()
            found = schemas.violations(conn, spec, first, last) if first else {}
        failing = sorted((test, rows) for test, rows in found.items() if rows)
        return dg.AssetCheckResult(
            passed=not failing,
            metadata={
                "tests": len(found),
                "failing": dg.MetadataValue.md(md_table(["column test", "rows"], failing)),
            },
        )

    return schema_tests
