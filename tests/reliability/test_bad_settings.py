"""Bad settings fail before the run starts: exit 2, one line naming the variable and the
fix, never a stack trace from a step half-way through (issue 12, item 5). And the smaller
items of item 8: a damaged warehouse is named, a refused Datadog key names the variables,
a failed analysts' copy leaves nothing behind."""

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import ARCHIVE_START
from datadog_api_client.exceptions import ApiException

from dora4_pipeline.cli import main
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.resources.warehouse import WarehouseResource, WarehouseUnreadable
from dora4_pipeline.settings import Settings, analyst_copy_path

ARGV = ["run", "--start", ARCHIVE_START.isoformat(), "--end", ARCHIVE_START.isoformat()]


@pytest.fixture
def demo_env(generated, monkeypatch, tmp_path):
    monkeypatch.setenv("DORA4_ARCHIVE_URI", str(generated / "archive"))
    monkeypatch.setenv("DORA4_TAGS_FILE", str(generated / "tags.json"))
    monkeypatch.setenv("DORA4_PARTITIONS_START", ARCHIVE_START.isoformat())
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "w.duckdb"))


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_warehouse_under_a_file_is_named(demo_env, tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "a-file" / "sub" / "w.duckdb"))
    assert main(ARGV) == 2
    assert one_line(capsys) == (
        f"dora4: DORA4_WAREHOUSE: '{tmp_path / 'a-file' / 'sub'}' is under "
        f"'{tmp_path / 'a-file'}', which is a file, not a folder; move that file or point "
        "DORA4_WAREHOUSE elsewhere"
    )


def test_a_warehouse_that_is_a_folder_is_named(demo_env, tmp_path, monkeypatch, capsys):
    (tmp_path / "wh").mkdir()
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "wh"))
    assert main(ARGV) == 2
    assert one_line(capsys).startswith(f"dora4: DORA4_WAREHOUSE: '{tmp_path / 'wh'}' is a folder")


def test_a_warehouse_in_a_read_only_folder_is_named(demo_env, tmp_path, monkeypatch, capsys):
    """A read-only bind mount refuses root too, as an immutable folder does (chattr +i
    needs CAP_LINUX_IMMUTABLE, a read-only mount needs a mount namespace: `unshare`)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if not shutil.which("mount"):
            pytest.skip("root ignores mode bits and mount(8) is missing")
        made = subprocess.run(
            ["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True
        )
        if made.returncode:
            pytest.skip(f"root ignores mode bits and cannot bind-mount here: {made.stderr!r}")
    else:
        folder.chmod(0o555)
    try:
        monkeypatch.setenv("DORA4_WAREHOUSE", str(folder / "w.duckdb"))
        assert main(ARGV) == 2
        line = one_line(capsys)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(folder)], check=True)
        folder.chmod(0o755)
    assert line.startswith(f"dora4: DORA4_WAREHOUSE: cannot write in '{folder}' (")
    assert "make it writable for this user or point DORA4_WAREHOUSE at a writable folder" in line


def test_parquet_under_a_file_is_named(demo_env, tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("DORA4_PARQUET_URI", str(tmp_path / "a-file" / "parquet"))
    assert main(ARGV) == 2
    assert one_line(capsys).startswith(
        f"dora4: DORA4_PARQUET_URI: '{tmp_path / 'a-file' / 'parquet'}' is under "
        f"'{tmp_path / 'a-file'}', which is a file"
    )


@pytest.mark.parametrize("url", ["api.datadoghq.eu", "ftp://x", "http://", "https://h:port"])
def test_a_datadog_url_that_is_not_a_url_is_named(demo_env, monkeypatch, capsys, url):
    monkeypatch.setenv("DORA4_DATADOG_URL", url)
    assert main(ARGV) == 2
    assert one_line(capsys).startswith(f"dora4: DORA4_DATADOG_URL: '{url}' ")


def test_a_string_where_tag_aliases_want_a_list_is_an_error(demo_env, monkeypatch, capsys):
    """Before, "squad" became the aliases s, q, u, a, d."""
    monkeypatch.setenv("DORA4_TAG_ALIASES", '{"Ownership.Pod": "squad"}')
    assert main(ARGV) == 2
    assert one_line(capsys) == (
        "dora4: DORA4_TAG_ALIASES: the value of 'Ownership.Pod' must be a list of strings, "
        'e.g. {"Ownership.Pod": ["squad"]}'
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DORA4_HTTP_READ_TIMEOUT", "0"),
        ("DORA4_HTTP_CONNECT_TIMEOUT", "soon"),
        ("DORA4_AWS_MAX_ATTEMPTS", "0"),
        ("DORA4_AWS_RETRY_MODE", "legacy"),
    ],
)
def test_network_settings_are_checked(demo_env, monkeypatch, capsys, name, value):
    monkeypatch.setenv(name, value)
    assert main(ARGV) == 2
    assert one_line(capsys).startswith(f"dora4: {name}: '{value}'")


@pytest.mark.parametrize("cron", ["0 2 * *", "61 2 * * *", "daily at two", "0 0 31 2 *"])
def test_a_schedule_that_is_not_cron_is_named(demo_env, monkeypatch, capsys, cron):
    """Checked by building Dagster's public schedule definition, before anything runs."""
    monkeypatch.setenv("DORA4_SCHEDULE_CRON", cron)
    assert main(ARGV) == 2
    assert one_line(capsys) == (
        f"dora4: DORA4_SCHEDULE_CRON: '{cron}' is not a cron expression (UTC)"
    )


def test_a_cron_schedule_with_names_and_steps_is_accepted(demo_env, monkeypatch):
    monkeypatch.setenv("DORA4_SCHEDULE_CRON", "*/30 2 * * MON-FRI")
    assert Settings.from_env().schedule_cron == "*/30 2 * * MON-FRI"


# -- item 8 -------------------------------------------------------------------------------


def test_a_damaged_warehouse_is_named_with_the_way_back(tmp_path):
    """Bytes of the file overwritten past its headers: DuckDB's checksum catches it."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create table t as select range as n from range(200000)")
    data = bytearray(path.read_bytes())
    data[3 * 4096 : 3 * 4096 + 64] = os.urandom(64)  # past the main and two database headers
    path.write_bytes(bytes(data))
    with pytest.raises(WarehouseUnreadable) as raised:
        with WarehouseResource(path=str(path)).connect() as conn:
            conn.execute("select sum(n) from t").fetchone()
    message = str(raised.value)
    assert message.startswith(f"the warehouse {path} cannot be read: Corrupt database file")
    assert str(analyst_copy_path(str(path))) in message and "\n" not in message


def test_a_refused_datadog_key_names_the_variables():
    error = ApiException(status=403, reason="Forbidden")
    reason = DatadogResource(api_key="k3y-s3cret", url="http://127.0.0.1:9").failure_reason(error)
    assert "403" in reason and "DD_API_KEY" in reason and "DD_APP_KEY" in reason


def test_a_failed_analysts_copy_leaves_no_partial_file(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = WarehouseResource(path=str(path))
    with warehouse.connect():
        pass
    target = analyst_copy_path(str(path))
    target.mkdir()  # a folder where the copy goes: the final rename fails
    with pytest.raises(OSError):
        warehouse.publish_analyst_copy()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
    assert Path(target).is_dir()
