"""Publishing `dora4.deployments.daily` to a local HTTP server standing in for Datadog.

Expected points come from the generator's truth, grouped by the contract's tag columns
and zero-filled, never from the program's output.
"""

import re
import shutil
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import ARCHIVE_DAYS, ARCHIVE_START
from datadog_double import DatadogDouble

from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.cli import main
from dora4_pipeline.partitions import range_tags
from dora4_pipeline.publish.dora_api import build_dora_deployments_asset, dora_id
from dora4_pipeline.publish.publications import deployments_daily
from dora4_pipeline.publish.tags import TAG_KEYS, group_tags
from dora4_pipeline.resources.datadog import DatadogResource
from dora4_pipeline.runner import run_range
from dora4_pipeline.settings import Settings

DAILY = "dora4.deployments.daily"
API_KEY = "dd-api-key-0f3c9a7e5b1d"
APP_KEY = "dd-app-key-6e2b8d4f0a9c"
LAST = ARCHIVE_START + timedelta(days=ARCHIVE_DAYS - 1)


def expected_points(truth: dict) -> dict[tuple[int, tuple[str, ...]], float]:
    """Every group the truth knows, on every day, with its deployments (zero included)."""
    groups = {tuple(d[c] for c in TAG_KEYS) for d in truth["deployments"]}
    counts = Counter((d["day"], tuple(d[c] for c in TAG_KEYS)) for d in truth["deployments"])
    points: Counter = Counter()
    for n in range(ARCHIVE_DAYS):
        day = ARCHIVE_START + timedelta(days=n)
        stamp = int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
        for group in groups:
            tags = tuple(group_tags(dict(zip(TAG_KEYS, group, strict=True))))
            points[(stamp, tags)] += counts[(day.isoformat(), group)]
    return dict(points)


def sent_points(
    double: DatadogDouble, metric: str = DAILY
) -> list[tuple[int, tuple[str, ...], float]]:
    return [
        (point["timestamp"], tuple(series["tags"]), point["value"])
        for series in double.accepted_series()
        if series["metric"] == metric
        for point in series["points"]
    ]


def assert_sent_exactly_once(double: DatadogDouble, expected: dict) -> None:
    sent = sent_points(double)
    assert Counter((stamp, tags) for stamp, tags, _ in sent) == Counter(expected.keys())
    assert {(stamp, tags): value for stamp, tags, value in sent} == expected
    assert {s["type"] for s in double.accepted_series()} == {3}  # gauges


def ledger(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(
            "select status, change, count(*), sum(value) from ops.datadog_publications "
            "where metric = ? group by all order by all",
            [DAILY],
        ).fetchall()


@pytest.fixture
def double():
    server = DatadogDouble(api_key=API_KEY, app_key=APP_KEY)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dry_run_warehouse(tmp_path_factory, generated) -> Path:
    """The generated archive run end to end once with no Datadog key: a dry run."""
    path = tmp_path_factory.mktemp("published") / "w.duckdb"
    with pytest.MonkeyPatch.context() as env:
        for name in ("DD_API_KEY", "DD_APP_KEY", "DD_SITE", "DORA4_DATADOG_URL"):
            env.delenv(name, raising=False)
        run_range(_settings(generated, path), ARCHIVE_START, LAST)
    return path


def _settings(generated: Path, warehouse: Path) -> Settings:
    return Settings(
        archive_uri=str(generated / "archive"),
        tags_file=str(generated / "tags.json"),
        warehouse=str(warehouse),
        partitions_start=ARCHIVE_START.isoformat(),
    )


def publish(
    generated, warehouse: Path, datadog: DatadogResource, **config
) -> dg.ExecuteInProcessResult:
    """The publish asset alone over the archive's days, as a range run does it."""
    defs = build_definitions(_settings(generated, warehouse))
    return dg.materialize(
        [defs.get_assets_def(deployments_daily().key)],
        resources={"warehouse": defs.resources["warehouse"], "datadog": datadog},
        tags=range_tags(ARCHIVE_START, LAST),
        run_config={"ops": {"datadog__deployments_daily": {"config": config}}} if config else None,
        raise_on_error=False,
    )


def copy_of(warehouse: Path, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(warehouse, tmp_path / "w.duckdb"))


def test_dry_run_records_every_point_and_sends_nothing(dry_run_warehouse, truth):
    expected = expected_points(truth)
    assert 0 in expected.values(), "zero days are points too"
    assert ledger(dry_run_warehouse) == [
        ("dry_run", "new", len(expected), float(sum(expected.values())))
    ]
    with duckdb.connect(str(dry_run_warehouse), read_only=True) as conn:
        (destinations,) = conn.execute(
            "select list(distinct destination) from ops.datadog_publications where metric = ?",
            [DAILY],
        ).fetchone()
    assert destinations == ["dry-run"]


def test_cli_run_publishes_each_point_once_and_no_secret_is_kept(
    generated, truth, tmp_path, monkeypatch, capfd, double
):
    home, warehouse = tmp_path / "dagster_home", tmp_path / "w.duckdb"
    home.mkdir()
    for name, value in {
        "DAGSTER_HOME": str(home),
        "DD_API_KEY": API_KEY,
        "DD_APP_KEY": APP_KEY,
        "DORA4_DATADOG_URL": double.url,
        "DORA4_ARCHIVE_URI": str(generated / "archive"),
        "DORA4_TAGS_FILE": str(generated / "tags.json"),
        "DORA4_WAREHOUSE": str(warehouse),
        "DORA4_PARTITIONS_START": ARCHIVE_START.isoformat(),
    }.items():
        monkeypatch.setenv(name, value)
    argv = ["run", "--start", str(ARCHIVE_START), "--end", str(LAST)]

    assert main(argv) == 0
    expected = expected_points(truth)
    assert_sent_exactly_once(double, expected)
    assert {r.headers.get("Content-Encoding") for r in double.submissions()} == {"gzip"}
    weekly = sent_points(double, "dora4.change_failure_rate")
    assert weekly and all("dora4.spec:r2-dora2023-utc" in tags for _, tags, _ in weekly)
    assert ledger(warehouse) == [("sent", "new", len(expected), float(sum(expected.values())))]

    # A rerun finds Datadog holding every value: nothing is sent, nothing recorded twice.
    assert main(argv) == 0
    assert len(sent_points(double)) == len(expected)
    assert ledger(warehouse) == [("sent", "new", len(expected), float(sum(expected.values())))]

    out, err = capfd.readouterr()
    kept = [p for p in [*home.rglob("*"), *tmp_path.glob("*.duckdb")] if p.is_file()]
    assert len(kept) > 3, "Dagster's run and event storage was written"
    for secret in (API_KEY, APP_KEY):
        assert secret not in out + err
        assert not [p for p in kept if secret.encode() in p.read_bytes()]


def test_429_and_500_are_retried_until_accepted_without_loss_or_doubles(
    dry_run_warehouse, generated, truth, tmp_path, double
):
    warehouse = copy_of(dry_run_warehouse, tmp_path)
    double.fail_next(429, headers={"X-RateLimit-Reset": "1"})
    double.fail_next(500)
    result = publish(generated, warehouse, DatadogResource(api_key=API_KEY, url=double.url))
    assert result.success
    assert [r.status for r in double.submissions()] == [429, 500, 202]
    assert_sent_exactly_once(double, expected_points(truth))
    metadata = result.asset_materializations_for_node("datadog__deployments_daily")[0].metadata
    assert metadata["points_failed"].value == 0
    assert metadata["historical_points"].value == len(expected_points(truth))


def test_a_permanent_failure_is_recorded_fails_the_run_and_the_rerun_sends_it(
    dry_run_warehouse, generated, truth, tmp_path, double
):
    warehouse = copy_of(dry_run_warehouse, tmp_path)
    expected = expected_points(truth)
    datadog = DatadogResource(api_key=API_KEY, url=double.url, max_retries=1)
    double.fail_always(500)
    failed = publish(generated, warehouse, datadog)
    assert not failed.success
    assert double.accepted_series() == []
    assert ("failed", "new", len(expected), float(sum(expected.values()))) in ledger(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (errors,) = conn.execute(
            "select list(distinct error) from ops.datadog_publications where status = 'failed'"
        ).fetchone()
    assert len(errors) == 1 and "500" in errors[0]

    double.fail_always(None)
    assert publish(generated, warehouse, datadog).success
    assert_sent_exactly_once(double, expected)


def test_resend_sends_the_same_values_and_restating_a_day_retracts_what_moved(
    dry_run_warehouse, generated, truth, tmp_path, double
):
    warehouse = copy_of(dry_run_warehouse, tmp_path)
    datadog = DatadogResource(api_key=API_KEY, url=double.url)
    expected = expected_points(truth)
    assert publish(generated, warehouse, datadog).success
    first = sorted(sent_points(double))
    assert publish(generated, warehouse, datadog, resend=True).success
    assert (
        sorted(sent_points(double)[len(first) :])
        == first
        == sorted((stamp, tags, value) for (stamp, tags), value in expected.items())
    )

    # Day 1 is restated with its busiest group's deployments moved to another pod.
    with duckdb.connect(str(warehouse)) as conn:
        moved = conn.execute(
            "update marts.deployment_frequency_daily set ownership_pod = 'moved' "
            "where (day, ownership_ba, ownership_pod, ownership_team, environment, "
            "component_name, event_source) = (select (day, ownership_ba, ownership_pod, "
            "ownership_team, environment, component_name, event_source) "
            "from marts.deployment_frequency_daily where day = ? "
            "order by deployments desc limit 1) returning deployments",
            [ARCHIVE_START],
        ).fetchall()
    before = len(sent_points(double))
    assert publish(generated, warehouse, datadog).success
    changed = sent_points(double)[before:]
    (deployments,) = moved[0]
    assert sorted(value for _, _, value in changed) == [0.0, float(deployments)]
    assert any("dora4.ownership.pod:moved" in tags for _, tags, _ in changed)
    assert ("sent", "retracted", 1, 0.0) in ledger(warehouse)


def test_production_deployments_reach_the_dora_api_once_with_valid_ids(
    dry_run_warehouse, generated, truth, tmp_path, double
):
    warehouse = copy_of(dry_run_warehouse, tmp_path)
    defs = build_definitions(_settings(generated, warehouse))
    asset = build_dora_deployments_asset(
        defs.get_assets_def(deployments_daily().key).partitions_def
    )
    datadog = DatadogResource(api_key=API_KEY, url=double.url, max_retries=1)

    def send():
        return dg.materialize(
            [asset],
            resources={"warehouse": defs.resources["warehouse"], "datadog": datadog},
            tags=range_tags(ARCHIVE_START, LAST),
            raise_on_error=False,
        )

    double.fail_next(400)  # one deployment refused: recorded, the others still go
    assert not send().success
    assert send().success
    assert send().success  # nothing left to send
    posts = [
        r.body["data"]["attributes"] for r in double.requests if r.path == "/api/v2/dora/deployment"
    ]
    accepted = [a for r, a in zip(double.requests, posts, strict=True) if r.status == 200]
    production = [d for d in truth["deployments"] if d["environment"] == "production"]
    assert len(posts) == len(production) + 1 and len(accepted) == len(production)
    assert sorted(a["id"] for a in accepted) == sorted(
        dora_id(d["deployment_id"]) for d in production
    )
    assert all(re.fullmatch(r"[A-Za-z0-9\-_.:]{16,128}", a["id"]) for a in accepted)
    assert {a["service"] for a in accepted} == {d["component_name"] for d in production}
    # the code's identity where the event says it (a Lambda's codeSha256), else no version
    versions = {dora_id(k): v for k, v in truth["deployment_versions"].items()}
    assert {a["id"]: a.get("version") for a in accepted} == {
        dora_id(d["deployment_id"]): versions.get(dora_id(d["deployment_id"])) for d in production
    }
    assert any(a.get("version") for a in accepted) and any("git" in a for a in accepted)
    assert all(re.fullmatch(r"[0-9a-f]{40}", a["git"]["commit_sha"]) for a in accepted
               if "git" in a)  # fmt: skip


def test_dora_ids_are_valid_for_the_api_and_stable():
    assert dora_id("ecs:ecs-svc/5312718506312542608") == "dora4-ecs:ecs-svc_5312718506312542608"
    assert dora_id("x") == dora_id("x") and len(dora_id("x")) >= 16
    assert len(dora_id("eks:" + "u" * 300)) <= 128
