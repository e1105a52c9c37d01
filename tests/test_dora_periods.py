"""The weekly and monthly marts: bands at each boundary (metric rules over hand-made facts),
and the reporting timezone moving a deployment across a day and week boundary (end to end,
from an archived event)."""

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from archive_helpers import lambda_deploy, write_object

from dora4_pipeline.cli import main
from dora4_pipeline.metrics.periods import materialize_periods
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.spec import MetricSpec

WEEK = date(2026, 3, 16)  # a Monday
DAY_S = 86_400


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Facts:
    """Rows for marts.fct_deployments / fct_changes / fct_failures, one pod per case."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn, self.n = conn, 0

    def deploy(self, pod: str, when: datetime, team: str = "team") -> str:
        self.n += 1
        deployment_id = f"lambda:{pod}-{self.n}"
        self.conn.execute(
            "insert into marts.fct_deployments (deployment_id, deployed_at, day, event_source, "
            "component_type, component_name, resource_id, environment, compliance_namespace, "
            "git_project_id, git_repository, ownership_ba, ownership_pod, ownership_team, "
            "source_event_id, source_object) values (?, ?, ?, 'lambda', 'lambda_function', "
            "?, ?, 'production', 'ns', '1', 'g/r', 'ba', ?, ?, ?, 'obj')",
            [deployment_id, when, when.date(), pod, f"arn:{pod}", pod, team, deployment_id],
        )
        return deployment_id

    def change(
        self, pod: str, deployment_id: str, deployed: datetime, lead: int, team: str = "team"
    ):
        self.n += 1
        self.conn.execute(
            "insert into marts.fct_changes by name select ? as deployment_id, "
            "? as commit_sha, ? as committed_at, ? as deployed_at, ? as day, "
            "? as lead_time_seconds, '1' as git_project_id, ? as component_name, "
            "'lambda_function' as component_type, 'lambda' as event_source, "
            "'production' as environment, 'ba' as ownership_ba, ? as ownership_pod, "
            "? as ownership_team, null as source_event_id",
            [
                deployment_id,
                f"sha{self.n}",
                deployed - timedelta(seconds=lead),
                deployed,
                deployed.date(),
                lead,
                pod,
                pod,
                team,
            ],
        )

    def failure(self, pod: str, deployment_id: str | None, start: datetime, seconds: int):
        self.n += 1
        self.conn.execute(
            "insert into marts.fct_failures by name select ? as failure_id, 'incident' as kind, "
            "? as started_at, ? as resolved_at, ? as day, ? as deployment_id, "
            "? as component_name, 'production' as environment, 'ba' as ownership_ba, "
            "? as ownership_pod, 'team' as ownership_team, null as source_event_id",
            [
                f"f{self.n}",
                start,
                start + timedelta(seconds=seconds),
                start.date(),
                deployment_id,
                pod,
                pod,
            ],
        )


@pytest.fixture
def facts(tmp_path):
    with WarehouseResource(path=str(tmp_path / "w.duckdb")).connect() as conn:
        yield Facts(conn)


def bands(conn, spec: MetricSpec) -> dict[str, tuple]:
    materialize_periods(conn, "week", spec, WEEK, WEEK)
    rows = conn.execute(
        "select ownership_pod, deployment_frequency_band, lead_time_band, "
        "change_failure_rate_band, time_to_restore_band, lead_time_samples, "
        "lead_time_excluded, spec_version from marts.dora_weekly "
        "where period_start = ? and grouping = 'team'",
        [WEEK],
    ).fetchall()
    return {pod: tuple(rest) for pod, *rest in rows}


@pytest.mark.parametrize(
    "spec, lead_seconds, expected",
    [
        (MetricSpec(), DAY_S - 1, "elite"),  # 2023: < 1 day
        (MetricSpec(), DAY_S, "high"),
        (MetricSpec(), 7 * DAY_S, "medium"),
        (MetricSpec(), 30 * DAY_S, "low"),
        (MetricSpec(bands="dora2021"), 3599, "elite"),  # 2021: < 1 hour
        (MetricSpec(bands="dora2021"), 3600, "high"),
    ],
)
def test_lead_time_band_at_its_boundaries(facts, spec, lead_seconds, expected):
    deployed = at(WEEK)
    deployment = facts.deploy("lt", deployed)
    facts.change("lt", deployment, deployed, lead_seconds)
    facts.change("lt", deployment, deployed, 0)  # a commit dated at the deploy: excluded
    df, lt, _, _, samples, excluded, version = bands(facts.conn, spec)["lt"]
    assert (lt, samples, excluded) == (expected, 1, 1)
    assert version == spec.version


def test_frequency_failure_rate_and_restore_bands_at_their_boundaries(facts):
    def deploy_days(pod: str, days: int, per_day: int = 1) -> list[str]:
        return [
            facts.deploy(pod, at(WEEK + timedelta(days=d), 8 + k))
            for d in range(days)
            for k in range(per_day)
        ]

    deploy_days("df5", 5)  # 5 deployment days in the week
    deploy_days("df4", 4)
    facts.deploy("medium", at(WEEK - timedelta(days=21)))  # inside the trailing 4 weeks
    facts.deploy("low", at(WEEK - timedelta(days=22)))  # one day before them
    cfr5 = deploy_days("cfr5", 4, per_day=5)  # 20 deployments, 1 failed: 5 %
    facts.failure("cfr5", cfr5[0], at(WEEK, 20), 60)
    cfr10 = deploy_days("cfr10", 2, per_day=5)  # 10 deployments, 1 failed: 10 %
    facts.failure("cfr10", cfr10[0], at(WEEK, 20), 60)
    cfr20 = deploy_days("cfr20", 1, per_day=5)  # 5 deployments, 1 failed: 20 %
    facts.failure("cfr20", cfr20[0], at(WEEK, 20), 60)
    ttr = deploy_days("ttr", 1)
    facts.failure("ttr", ttr[0], at(WEEK, 20), 3599)  # median of 3599, 3600, 3601: 3600
    facts.failure("ttr", ttr[0], at(WEEK, 21), 3600)
    facts.failure("ttr", ttr[0], at(WEEK, 22), 3601)

    got = {
        pod: (df, cfr, ttr)
        for pod, (df, _, cfr, ttr, *_) in bands(facts.conn, MetricSpec()).items()
    }
    assert got["df5"][0] == "elite" and got["df4"][0] == "high"
    # no deployments in the week: no band (spec r2; r1 said medium and low)
    assert got["medium"][0] == "no_data" and got["low"][0] == "no_data"
    assert got["medium"][1] == "no_data", "no deployments in the week: no failure rate"
    assert (got["cfr5"][1], got["cfr10"][1], got["cfr20"][1]) == ("elite", "high", "low")
    assert got["ttr"][2] == "high", "3600 s is not under one hour"


def test_the_reporting_timezone_moves_a_2330_utc_deployment_to_the_next_berlin_week(
    tmp_path, monkeypatch, capsys
):
    sunday_night = datetime(2026, 3, 22, 23, 30, tzinfo=UTC)  # Monday 00:30 in Berlin
    deploy = lambda_deploy("tz-1", sunday_night)
    write_object(tmp_path / "archive", datetime(2026, 3, 22, 23, tzinfo=UTC), [deploy], name="a")
    for name, value in {
        "DORA4_ARCHIVE_URI": str(tmp_path / "archive"),
        "DORA4_TAGS_FILE": str(tmp_path / "tags.json"),
        "DORA4_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DORA4_PARTITIONS_START": "2026-03-01",
    }.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "tags.json").write_text("{}")
    run = ["run", "--start", "2026-03-22", "--end", "2026-03-22"]

    def weeks() -> dict[date, tuple]:
        with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
            rows = conn.execute(
                "select period_start, deployments, spec_version from marts.dora_weekly "
                "where grouping = 'ba'"
            ).fetchall()
        return {week: (n, version) for week, n, version in rows}

    assert main(run) == 0
    assert weeks()[WEEK] == (1, "r2-dora2023-utc")

    monkeypatch.setenv("DORA4_TIMEZONE", "Europe/Berlin")
    assert main(run) == 1, "a changed spec is never applied silently"
    assert "restate" in capsys.readouterr().err
    assert main([*run, "--restate-spec"]) == 0
    berlin = "r2-dora2023-europe_berlin"
    assert weeks() == {WEEK: (0, berlin), WEEK + timedelta(days=7): (1, berlin)}


def test_a_pods_median_comes_from_its_commits_not_from_its_teams_medians(facts):
    deployed = at(WEEK)
    for team, leads in {"a": [100, 200], "b": [1000]}.items():
        deployment = facts.deploy("p", deployed, team)
        for lead in leads:
            facts.change("p", deployment, deployed, lead, team)
    materialize_periods(facts.conn, "week", MetricSpec(), WEEK, WEEK)
    medians = dict(
        facts.conn.execute(
            "select grouping || ':' || ownership_team, lead_time_median_seconds "
            "from marts.dora_weekly where ownership_pod = 'p' or grouping = 'ba'"
        ).fetchall()
    )
    assert medians == {"team:a": 150.0, "team:b": 1000.0, "pod:*": 200.0, "ba:*": 200.0}


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks: what DuckDB's quantile_cont computes."""
    if not values:
        return None
    ordered, position = sorted(values), (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_weekly_keys_per_pod_are_what_the_generators_truth_implies(
    generated, truth, tmp_path, monkeypatch
):
    for name, value in {
        "DORA4_ARCHIVE_URI": str(generated / "archive"),
        "DORA4_TAGS_FILE": str(generated / "tags.json"),
        "DORA4_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DORA4_PARTITIONS_START": "2026-03-01",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["run", "--start", "2026-03-16", "--end", "2026-03-17"]) == 0

    def pod(row: dict) -> tuple[str, str]:
        return row["ownership_ba"], row["ownership_pod"]

    production = [d for d in truth["deployments"] if d["environment"] == "production"]
    failed_ids = {f["deployment_id"] for f in truth["failures"] if f["deployment_id"]}
    expected = {}
    for key in {pod(d) for d in production}:
        deployments = [d for d in production if pod(d) == key]
        # no GITLAB_URL here: commits a push hook left out (>20) have no lead time, counted
        changes = [c for c in truth["changes"] if pod(c) == key]
        leads = [c["lead_time_seconds"] for c in changes if not c["beyond_hook"]]
        missing = sum(c["beyond_hook"] for c in changes)
        resolved = [
            f
            for f in truth["failures"]
            if pod(f) == key and f["environment"] == "production" and f["resolved_at"]
        ]
        restores = [_seconds(f["resolved_at"]) - _seconds(f["started_at"]) for f in resolved]
        recoveries = [
            _seconds(f["resolved_at"]) - _seconds(f["started_at"])
            for f in resolved
            if f["kind"] in ("rollback", "circuit_breaker", "failed_deployment")
        ]
        failed = sum(d["deployment_id"] in failed_ids for d in deployments)
        attempts = sum(
            f["kind"] in ("circuit_breaker", "failed_deployment")
            and f["environment"] == "production"
            for f in truth["failures"]
            if pod(f) == key
        )
        expected[key] = (
            len(deployments),
            _quantile([s for s in leads if s > 0], 0.5),
            _quantile([s for s in leads if s > 0], 0.9),
            sum(s > 0 for s in leads),
            sum(s <= 0 for s in leads),
            failed,
            (failed + attempts) / (len(deployments) + attempts),
            _quantile(restores, 0.5),
            len(restores),
            _quantile(recoveries, 0.5),
            len(recoveries),
            missing,
        )
    assert any(v[1] for v in expected.values()) and any(v[5] for v in expected.values())
    assert any(v[7] for v in expected.values()), "the case has restores to compare"
    assert any(v[9] for v in expected.values()), "and failed-deployment recoveries"
    assert any(v[11] for v in expected.values()), "and commits a push hook left out"

    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            "select ownership_ba, ownership_pod, deployments, lead_time_median_seconds, "
            "lead_time_p90_seconds, lead_time_samples, lead_time_excluded, failed_deployments, "
            "change_failure_rate, time_to_restore_median_seconds, restore_samples, "
            "failed_deployment_recovery_median_seconds, failed_deployment_recovery_samples, "
            "lead_time_commits_missing from marts.dora_weekly "
            "where grouping = 'pod' and environment = 'production' "
            "and period_start = ?",
            [WEEK],
        ).fetchall()
    got = {(ba, p): tuple(rest) for ba, p, *rest in rows}
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key] == pytest.approx(values), key


def test_monthly_frequency_is_the_median_over_the_months_weeks(facts):
    for day in range(5):  # five deployment days in the week of 16 March, none in the others
        facts.deploy("busy-week", at(WEEK + timedelta(days=day)))
    for monday in (2, 9, 16, 23):  # one deployment day in four of March's five weeks
        facts.deploy("steady", at(date(2026, 3, monday)))
    materialize_periods(facts.conn, "month", MetricSpec(), date(2026, 3, 1), date(2026, 3, 1))
    rows = facts.conn.execute(
        "select ownership_pod, deployment_days, deployment_days_per_week, "
        "deployment_frequency_band from marts.dora_monthly where grouping = 'pod'"
    ).fetchall()
    assert sorted(rows) == [("busy-week", 5, 0.0, "medium"), ("steady", 4, 1.0, "high")]
