"""`dora4 dashboard` against the Datadog double over real HTTP; the JSON against the contract."""

import json
import re

import pytest
from datadog_double import DatadogDouble

from dora4_pipeline.cli import main
from dora4_pipeline.publish.dashboard import DEFAULT_DASHBOARD
from dora4_pipeline.publish.publications import BAND_METRICS
from dora4_pipeline.publish.tags import TAG_KEYS

API_KEY = "api-key-0123456789abcdef"
APP_KEY = "app-key-fedcba9876543210"
METRIC = "dora4.deployments.daily"
WEEKLY = (
    "dora4.lead_time.median_seconds",
    "dora4.change_failure_rate",
    "dora4.time_to_restore",
    *BAND_METRICS.values(),  # the row of four band tiles
)


@pytest.fixture
def datadog(monkeypatch):
    double = DatadogDouble(api_key=API_KEY, app_key=APP_KEY)
    monkeypatch.setenv("DORA4_DATADOG_URL", double.start())
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    yield double
    double.stop()


def _queries(node) -> list[str]:
    """Every metric query in a dashboard: formula queries (`query`) and legacy ones (`q`)."""
    if isinstance(node, list):
        return [q for item in node for q in _queries(item)]
    if isinstance(node, dict):
        own = [v for k, v in node.items() if k in ("query", "q") and isinstance(v, str)]
        return own + [q for v in node.values() if isinstance(v, dict | list) for q in _queries(v)]
    return []


def test_first_run_creates_one_dashboard_on_the_contract_metric(datadog, capsys):
    assert main(["dashboard"]) == 0

    [(dashboard_id, sent)] = datadog.dashboards.items()
    assert capsys.readouterr().out.startswith(f"created dashboard {dashboard_id} ")
    assert sent["title"] == "DORA: deployment frequency (dora4)"
    queries = _queries(sent["widgets"])
    daily = [q for q in queries if METRIC in q]
    assert len(daily) >= 5 and all(any(m in q for m in (METRIC, *WEEKLY)) for q in queries)
    assert all(any(m in q for q in queries) for m in WEEKLY), "the other three keys too"
    prefixes = {v["prefix"] for v in sent["template_variables"]}
    assert {"dora4.ownership.ba", "dora4.ownership.pod", "dora4.ownership.team"} <= prefixes
    assert "dora4.environment" in prefixes and prefixes <= set(TAG_KEYS.values())


def test_second_run_updates_the_same_dashboard(datadog, capsys):
    assert main(["dashboard"]) == 0
    [dashboard_id] = datadog.dashboards
    assert main(["dashboard"]) == 0

    assert list(datadog.dashboards) == [dashboard_id]
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"updated dashboard {dashboard_id}")
    writes = [(r.method, r.path) for r in datadog.requests if r.method != "GET"]
    assert writes == [("POST", "/api/v1/dashboard"), ("PUT", f"/api/v1/dashboard/{dashboard_id}")]


def test_without_keys_it_is_a_dry_run_that_sends_nothing(datadog, monkeypatch, capsys):
    monkeypatch.delenv("DD_API_KEY")
    monkeypatch.delenv("DD_APP_KEY")

    assert main(["dashboard"]) == 0

    out = capsys.readouterr().out
    widgets = len(json.loads(DEFAULT_DASHBOARD.read_text())["widgets"])
    assert "dry run" in out and f"{widgets} widgets" in out and datadog.url in out
    assert datadog.requests == []


@pytest.mark.parametrize("unset", ["DD_APP_KEY", "DD_API_KEY"])
def test_one_key_alone_is_a_configuration_error_naming_the_other(
    datadog, monkeypatch, capsys, unset
):
    monkeypatch.delenv(unset)

    assert main(["dashboard"]) == 2

    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and unset in err
    assert datadog.requests == []


def test_a_refused_key_fails_in_one_line_that_shows_no_key(datadog, monkeypatch, capsys):
    wrong = "app-key-wrong-00000000000"
    monkeypatch.setenv("DD_APP_KEY", wrong)

    assert main(["dashboard"]) != 0

    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "403" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert API_KEY not in output and wrong not in output and APP_KEY not in output
    assert datadog.requests and datadog.dashboards == {}


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda text: text[:-10], id="cut-json"),
        pytest.param(lambda text: text.replace('"display_type"', '"dispaly_type"', 1), id="typo"),
        pytest.param(lambda text: text.replace('"toplist"', '"top_list"'), id="no-such-widget"),
        pytest.param(lambda text: text.replace('"ordered"', '"grid"'), id="no-such-layout"),
    ],
)
def test_an_invalid_dashboard_file_is_refused_naming_the_file(tmp_path, capsys, mangle):
    path = tmp_path / "broken.json"
    path.write_text(mangle(DEFAULT_DASHBOARD.read_text()))

    assert main(["dashboard", "--file", str(path)]) == 2

    err = capsys.readouterr().err
    assert str(path) in err and len(err.strip().splitlines()) == 1


def test_the_dashboard_filters_and_groups_only_by_contract_tag_keys():
    dashboard = json.loads(DEFAULT_DASHBOARD.read_text())
    keys = set(TAG_KEYS.values())
    variables = {v["name"]: v["prefix"] for v in dashboard["template_variables"]}
    queries = _queries(dashboard["widgets"])

    assert set(variables.values()) <= keys
    grouped = {
        t.strip() for q in queries for g in re.findall(r" by \{([^}]*)\}", q) for t in g.split(",")
    }
    assert grouped and grouped <= keys
    for query in queries:  # every widget answers every filter its metric has tags for
        used = set(re.findall(r"\$(\w+)", query))
        if METRIC in query:
            assert used == set(variables), query
        else:  # weekly gauges: per pod, no team or event source tag
            assert used == set(variables) - {"team", "source"}, query
            assert "dora4.grouping:pod" in query
