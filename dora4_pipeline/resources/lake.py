"""The normalized layer as Parquet, one file per table and UTC day, for readers other
than the warehouse: DuckDB, Athena, Spark, another machine.

Hive layout, `<uri>/<table>/day=YYYY-MM-DD/part-0.parquet`, the day in the folder name
only (what Athena and Spark expect of a partition column). Each materialized day is
rewritten whole and replaced atomically (local: rename; S3: one PUT), so a reader sees
the old file or the new one, never a mix, and never holds a lock on the DuckDB file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import duckdb

from dora4_pipeline.resources.archive import explained
from dora4_pipeline.resources.network import AwsNetwork


class ParquetLakeResource(dg.ConfigurableResource):
    """DORA4_PARQUET_URI: a folder or `s3://bucket/prefix/`."""

    uri: str
    network: AwsNetwork = AwsNetwork()

    def write_days(self, conn: duckdb.DuckDBPyConnection, table: str, days: list[date]) -> str:
        """Writes marts.<table> for each day; returns where the table's files are."""
        if self.uri.startswith("s3://"):
            self._upload(conn, table, days)
        else:
            for day in days:
                target = Path(self.uri) / _relative(table, day)
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(f".{target.name}.partial")
                _copy_day(conn, table, day, partial)
                os.replace(partial, target)
        return f"{self.uri.rstrip('/')}/{table}/"

    def _upload(self, conn: duckdb.DuckDBPyConnection, table: str, days: list[date]) -> None:
        """Stages each day's file locally, then one PUT per day with one client."""
        parsed = urlparse(self.uri)
        prefix = parsed.path.strip("/")
        client = self.network.client("s3")
        with tempfile.TemporaryDirectory(prefix="dora4-parquet-") as workdir:
            staged = Path(workdir) / "part-0.parquet"
            for day in days:
                key = f"{prefix}/{_relative(table, day)}".lstrip("/")
                _copy_day(conn, table, day, staged)
                with explained(f"s3://{parsed.netloc}/{key}", client):
                    client.upload_file(str(staged), parsed.netloc, key)


def _relative(table: str, day: date) -> str:
    return f"{table}/day={day.isoformat()}/part-0.parquet"


def _copy_day(conn: duckdb.DuckDBPyConnection, table: str, day: date, path: Path) -> None:
    literal = "'" + str(path).replace("'", "''") + "'"  # our own path, never event data
    conn.execute(
        f"copy (select * exclude (day) from marts.{table} where day = $day) "  # noqa: S608
        f"to {literal} (format parquet, compression zstd)",
        {"day": day},
    )
