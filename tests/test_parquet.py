"""The normalized layer as Parquet per day: on S3 (moto over HTTP) for other engines, and
locally replaced atomically under a reader that holds the old file open."""

import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
import duckdb
from archive_helpers import lambda_deploy, write_object
from conftest import ARCHIVE_DAYS, ARCHIVE_START, REGION

from dora4_pipeline.cli import main

LAST = ARCHIVE_START + timedelta(days=ARCHIVE_DAYS - 1)
RUN = ["run", "--start", str(ARCHIVE_START), "--end", str(LAST)]


def deployments_per_day(parquet_glob: str) -> dict[str, int]:
    with duckdb.connect() as conn:
        rows = conn.execute(
            "select day, count(*) from read_parquet(?, hive_partitioning = true) group by day",
            [parquet_glob],
        ).fetchall()
    return {day.isoformat(): n for day, n in rows}


def rows(path) -> int:
    with duckdb.connect() as conn:
        return conn.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()[0]


def use(monkeypatch, generated, tmp_path, **extra: str) -> None:
    settings = {
        "DORA4_ARCHIVE_URI": str(tmp_path / "archive"),
        "DORA4_TAGS_FILE": str(generated / "tags.json"),
        "DORA4_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DORA4_PARTITIONS_START": ARCHIVE_START.isoformat(),
        **extra,
    }
    shutil.copytree(generated / "archive", tmp_path / "archive")
    for name, value in settings.items():
        monkeypatch.setenv(name, value)


def test_parquet_on_s3_holds_each_day_of_the_marts(aws, generated, truth, tmp_path, monkeypatch):
    boto3.client("s3").create_bucket(
        Bucket="lake", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    use(monkeypatch, generated, tmp_path, DORA4_PARQUET_URI="s3://lake/dora4/")
    assert main(RUN) == 0

    keys = sorted(o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="lake")["Contents"])
    days = [(ARCHIVE_START + timedelta(days=n)).isoformat() for n in range(ARCHIVE_DAYS)]
    assert keys == sorted(
        f"dora4/{table}/day={day}/part-0.parquet"
        for table in (
            "fct_deployments",
            "fct_changes",
            "fct_failures",
            "deployment_frequency_daily",
        )
        for day in days
    )
    local = tmp_path / "downloaded"
    for key in keys:
        (local / key).parent.mkdir(parents=True, exist_ok=True)
        boto3.client("s3").download_file("lake", key, str(local / key))
    expected = Counter(d["day"] for d in truth["deployments"])
    assert deployments_per_day(str(local / "dora4/fct_deployments/*/*.parquet")) == expected
    assert not (tmp_path / "parquet").exists(), "nothing written locally when S3 is set"


def test_a_reader_holding_a_days_parquet_keeps_its_version_and_the_rerun_replaces_it(
    generated, truth, tmp_path, monkeypatch
):
    use(monkeypatch, generated, tmp_path)
    assert main(RUN) == 0
    day_file = tmp_path / "parquet" / "fct_deployments" / f"day={ARCHIVE_START}" / "part-0.parquet"
    expected = sum(1 for d in truth["deployments"] if d["day"] == ARCHIVE_START.isoformat())

    with open(day_file, "rb") as held:  # a reader in the middle of the old file
        late = lambda_deploy("parquet-late-1", datetime(2026, 3, 16, 23, 50, tzinfo=UTC))
        write_object(tmp_path / "archive", datetime(2026, 3, 17, 6, tzinfo=UTC), [late], name="x")
        assert main(RUN) == 0
        old = tmp_path / "old.parquet"
        old.write_bytes(held.read())

    assert rows(old) == expected
    assert rows(day_file) == expected + 1
    assert not list(day_file.parent.glob(".*partial")), "no half-written file is left behind"
