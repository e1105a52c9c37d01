"""`dora4 report --html/--png`: the four keys drawn from hand-built facts, checked in headless
Chromium with every network request refused (the page must open offline)."""

import shutil
import struct
from datetime import date, timedelta

import duckdb
import pytest
from playwright.sync_api import sync_playwright
from test_dagster_dev import CHROMIUM_ARGS
from test_dora_periods import Facts, at

from dora4_pipeline.cli import main
from dora4_pipeline.metrics.periods import materialize_periods
from dora4_pipeline.publish.dashboard import DEFAULT_DASHBOARD
from dora4_pipeline.publish.publications import BAND_METRICS, dora_weekly
from dora4_pipeline.report_html import write_report
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.spec import MetricSpec

WEEK = date(2026, 3, 16)  # a Monday


@pytest.fixture
def warehouse(tmp_path):
    """Pod `steady` deploys every day of the week (elite frequency), with a 2 h commit and a
    3 h incident; pod `rare` deploys once, with a 3-day commit. Ownership BA `ba`."""
    path = str(tmp_path / "w.duckdb")
    with WarehouseResource(path=path).connect() as conn:
        facts = Facts(conn)
        steady = [facts.deploy("steady", at(WEEK + timedelta(days=d))) for d in range(7)]
        facts.change("steady", steady[0], at(WEEK), 2 * 3600)
        facts.failure("steady", steady[1], at(WEEK + timedelta(days=1), 13), 3 * 3600)
        rare = facts.deploy("rare", at(WEEK + timedelta(days=2)))
        facts.change("rare", rare, at(WEEK + timedelta(days=2)), 3 * 86400)
        materialize_periods(conn, "week", MetricSpec(), WEEK, WEEK)
    return path


def test_the_page_opens_offline_and_shows_each_groups_keys_and_rows(warehouse, tmp_path):
    page_path = tmp_path / "report.html"
    write_report(warehouse, page_path, None)
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: `make browser` installs Debian's chromium"
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith("file:") else route.abort()
            ),
        )
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        organisation = page.inner_text("#view")
        org_rows = page.inner_text("#tables")
        page.select_option(".vega-bind select", label="Pod ba / rare")
        page.wait_for_function(
            "document.querySelector('#table-deployments caption')"
            ".textContent.startsWith('deployments: 1')"
        )
        rare = page.inner_text("#view")
        browser.close()
    assert [u for u in requests if not u.startswith("file:")] == []
    # organisation: 8 deployments on 7 days; lead time median of 2 h and 72 h = 37 h
    assert "7.0 days/week" in organisation and "37.0 h median" in organisation
    assert "12.5 %" in organisation  # 1 failed of 8 deployments
    assert "deployments: 8" in org_rows and "commits: 2" in org_rows and "failures: 1" in org_rows
    # the rare pod: one deployment day (low), a 72 h lead time, no failures (0 %)
    assert "1.0 days/week" in rare and "72.0 h median" in rare and "0.0 %" in rare


def test_the_png_draws_the_same_view(warehouse, tmp_path):
    png = tmp_path / "keys.png"
    assert write_report(warehouse, None, png) is not None
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert width > 800 and height > 600


def test_the_cli_says_what_is_missing(warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DORA4_WAREHOUSE", warehouse)
    assert main(["report", "--html", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert main(["report"]) == 2
    assert main(["report", "--start", "2026-03-20", "--end", "2026-03-16"]) == 2
    assert "before --start" in capsys.readouterr().err
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "empty.duckdb"))
    with WarehouseResource(path=str(tmp_path / "empty.duckdb")).connect():
        pass
    assert main(["report", "--png", str(tmp_path / "e.png")]) == 2
    assert "run `dora4 run` first" in capsys.readouterr().err


def test_datadog_gets_each_keys_band_and_deployment_days_like_the_page(warehouse):
    with duckdb.connect(warehouse, read_only=True) as conn:
        points = list(dora_weekly(MetricSpec()).read(conn, WEEK, WEEK))
    steady = {m: v for m, _, tags, v in points if "dora4.ownership.pod:steady" in tags}
    rare = {m: v for m, _, tags, v in points if "dora4.ownership.pod:rare" in tags}
    # steady: 7 deployment days (elite), 2 h lead time (elite under the 2023 bands: < 1 day)
    assert steady["dora4.deployment_frequency.band"] == 4
    assert steady["dora4.deployment_days.per_week"] == 7
    assert steady["dora4.lead_time.band"] == 4
    # rare: 1 deployment day a week is high (weekly to daily); a 3-day lead time is high
    assert rare["dora4.deployment_frequency.band"] == 3
    assert rare["dora4.lead_time.band"] == 3
    tiles = DEFAULT_DASHBOARD.read_text()
    assert all(metric in tiles for metric in BAND_METRICS.values())
