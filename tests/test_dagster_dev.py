"""`dagster dev` on workspace.yaml, started once for the module on a one-day archive: the
webserver loads the code location (assets, checks, automation), and the real UI, driven in
headless Chromium, launches a materialization that succeeds. The whole process tree
`dagster dev` starts is ended, whatever happens."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from dora4_generator import generate

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "test-output" / "ui"  # kept after the run, for a human to look at
ASSETS = {
    "raw/candidate_events",
    "raw/resource_tag_snapshots",
    "marts/fct_deployments",
    "marts/deployment_frequency_daily",
    "datadog/deployments_daily",
}
CHECKS = {
    "deployment_ids_unique",
    "daily_counts_match_deployments",
    "ownership_complete",
    "no_open_dead_letters",
}
EXPECTED_AUTOMATION = {"schedules": {"dora4_daily_schedule"}, "sensors": {"dora4_archive_sensor"}}
LOCATION_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
  schedules { name } sensors { name } } } } }"""
RUNS_QUERY = """{ runsOrError { ... on Runs { results {
  runId status assetSelection { path } } } } }"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
# Without the background-networking flags Chromium phones home and the closed network
# refuses it; --no-sandbox because CI containers run as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds}s")


def _repositories(base_url: str, seconds: float = 60) -> list[dict]:
    """The code server loads after the webserver answers: ask until it has."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data = _post(f"{base_url}/graphql", LOCATION_QUERY)["data"]
        nodes = data["repositoriesOrError"].get("nodes")
        if nodes:
            return nodes
        time.sleep(0.5)
    raise TimeoutError(f"the code location did not load within {seconds}s")


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    """Base URL of one `dagster dev` serving a one-day archive with exactly one partition
    (yesterday UTC), so a materialization from the UI is one small run."""
    tmp = tmp_path_factory.mktemp("dagster_dev")
    day = datetime.now(UTC).date() - timedelta(days=1)
    generate(tmp / "generated", start=day, days=1, events_per_day=300, seed=3)
    (tmp / "home").mkdir()
    # Module scope runs before conftest's per-test isolation: leave the same variables out.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DD_", "DORA4_", "DAGSTER_HOME"))
    }
    env |= {
        "AWS_EC2_METADATA_DISABLED": "true",
        "DAGSTER_HOME": str(tmp / "home"),
        "DORA4_ARCHIVE_URI": str(tmp / "generated" / "archive"),
        "DORA4_TAGS_FILE": str(tmp / "generated" / "tags.json"),
        "DORA4_WAREHOUSE": str(tmp / "w.duckdb"),
        "DORA4_PARTITIONS_START": day.isoformat(),
    }
    port = _free_port()
    dagster = Path(sys.executable).with_name("dagster")
    process = subprocess.Popen(
        [
            str(dagster),
            "dev",
            "-w",
            str(ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: we can end all of it
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for(f"{base_url}/server_info", 120)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def assert_automation(repositories: list[dict]) -> None:
    """The schedule and sensor the code location must define (EXPECTED_AUTOMATION)."""
    for kind, expected in EXPECTED_AUTOMATION.items():
        names = {item["name"] for repo in repositories for item in repo[kind]}
        assert expected <= names, f"missing {kind}: {sorted(expected - names)}"


def test_dagster_dev_serves_the_code_location(dagster_dev):
    repositories = _repositories(dagster_dev)
    nodes = [a for repo in repositories for a in repo["assetNodes"]]
    assert ASSETS <= {"/".join(a["assetKey"]["path"]) for a in nodes}
    checks = {c["name"] for a in nodes for c in a["assetChecksOrError"].get("checks", [])}
    assert CHECKS <= checks
    assert_automation(repositories)


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    """Into the test's folder and into test-output/ui/, which outlives pytest's tmp."""
    page.screenshot(path=tmp_path / f"{name}.png")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / f"{name}.png", SCREENSHOTS / f"{name}.png")


def _finished_run(base_url: str, run_id_prefix: str, seconds: float) -> dict:
    """The run the UI launched (its toast names the first 8 characters), once finished."""
    deadline = time.monotonic() + seconds
    run: dict = {}
    while time.monotonic() < deadline:
        runs = _post(f"{base_url}/graphql", RUNS_QUERY)["data"]["runsOrError"]["results"]
        run = next((r for r in runs if r["runId"].startswith(run_id_prefix)), {})
        if run.get("status") in FINISHED:
            return run
        time.sleep(1)
    raise TimeoutError(f"run {run_id_prefix} not finished within {seconds}s: {run}")


def _launch_materialize_all(page: Page, base_url: str, tmp_path: Path) -> str:
    """Global asset lineage → expand the groups → Materialize all… → All (the one
    partition) → "Launch 1 run" (the dialog says "Launch backfill" when there are more).
    Returns the short run id the UI reports."""
    # A fresh instance pops "Join the Dagster community" over whatever is open, a second
    # after load; the browser's "dismissed" flag keeps it away.
    page.add_init_script("localStorage.setItem('communityNux', '\"1\"')")
    page.goto(f"{base_url}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="settings", exact=True).click()  # the graph's gear
    page.get_by_role("menuitem", name=re.compile(r"Expand all groups")).click()
    for name in ("candidate_events", "fct_deployments"):  # the others' labels are truncated
        expect(page.get_by_text(name, exact=True)).to_be_visible(timeout=30_000)
    _screenshot(page, tmp_path, "1-asset-graph")

    page.get_by_role("button", name="Materialize all").click()
    dialog = page.get_by_role("dialog")
    expect(
        dialog.get_by_text(re.compile(r"^Launch runs to materialize \d+ assets"))
    ).to_be_visible()
    dialog.get_by_role("button", name="All", exact=True).click()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    _screenshot(page, tmp_path, "2-launch-dialog")

    dialog.get_by_role("button", name=re.compile(r"^Launch ")).click()
    expect(dialog).to_be_hidden(timeout=30_000)
    toast = page.get_by_text(re.compile(r"^Launched run \w+"))
    expect(toast).to_be_visible(timeout=30_000)
    _screenshot(page, tmp_path, "3-launched")
    return toast.inner_text().split()[-1]


def test_ui_launches_a_materialization_in_headless_chromium(dagster_dev, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: `make browser` installs Debian's chromium"
    _repositories(dagster_dev)  # the UI is only useful once the code location has loaded
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        try:
            run_id_prefix = _launch_materialize_all(page, dagster_dev, tmp_path)
        except Exception:
            _screenshot(page, tmp_path, "failure")
            raise
        finally:
            browser.close()

    run = _finished_run(dagster_dev, run_id_prefix, 180)
    assert run["status"] == "SUCCESS"
    assert ASSETS <= {"/".join(a["path"]) for a in run["assetSelection"]}
