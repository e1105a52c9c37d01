"""Spec r2's definitions (docs/metrics.md): every key of marts.dora_weekly and dora_monthly
against what the generator's truth implies, at team, pod and BA level, in UTC and in
America/Los_Angeles; and hand-made facts for partial periods, `no_data`, the monthly
deployment days per week and the circuit breaker's failed attempt."""

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from dora4_pipeline.cli import main
from dora4_pipeline.metrics.periods import adopt_spec, materialize_periods
from dora4_pipeline.report import keys_report
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.spec import SPEC_REVISION, MetricSpec

RUN_DAYS = (date(2026, 3, 16), date(2026, 3, 17))  # the UTC days the run materializes
KEYS = (
    "deployments", "deployment_days", "deployment_days_per_week", "lead_time_median_seconds",
    "lead_time_p90_seconds", "lead_time_samples", "lead_time_excluded", "failed_deployments",
    "failed_attempts", "change_failure_rate", "time_to_restore_median_seconds",
    "restore_samples", "failed_deployment_recovery_median_seconds",
    "failed_deployment_recovery_samples", "deployment_frequency_band", "partial",
    "days_covered",
)  # fmt: skip


def _quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks: what DuckDB's quantile_cont computes."""
    if not values:
        return None
    ordered, position = sorted(values), (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Expected:
    """The period marts' values from truth alone, by docs/metrics.md (spec r2)."""

    def __init__(self, truth: dict, tz: str, now: datetime) -> None:
        self.truth, self.zone, self.now = truth, ZoneInfo(tz), now

    def local_day(self, text: str) -> date:
        return datetime.fromisoformat(text).astimezone(self.zone).date()

    @staticmethod
    def start(day: date, grain: str) -> date:
        return day - timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)

    @staticmethod
    def end(period: date, grain: str) -> date:
        if grain == "week":
            return period + timedelta(days=7)
        return (period.replace(day=28) + timedelta(days=4)).replace(day=1)

    def covered(self, day: date) -> bool:
        begins = datetime.combine(day, time(), self.zone)
        ends = datetime.combine(day + timedelta(days=1), time(), self.zone)
        first = begins.astimezone(UTC).date()
        last = (ends - timedelta(microseconds=1)).astimezone(UTC).date()
        utc_days = {first + timedelta(days=n) for n in range((last - first).days + 1)}
        return ends <= self.now and utc_days <= set(RUN_DAYS)

    @staticmethod
    def group(row: dict, level: str) -> tuple:
        return (
            "*" if level == "org" else row["ownership_ba"],
            "*" if level in ("ba", "org") else row["ownership_pod"],
            row["ownership_team"] if level == "team" else "*",
        )

    def values(self, grain: str, level: str, period: date, group: tuple) -> dict:
        def mine(row: dict, when: str) -> bool:
            return (
                row["environment"] == "production"
                and self.group(row, level) == group
                and self.start(self.local_day(row[when]), grain) == period
            )

        end = self.end(period, grain)
        deployments = [d for d in self.truth["deployments"] if mine(d, "deployed_at")]
        days = {self.local_day(d["deployed_at"]) for d in deployments}
        leads = [  # no GitLab API here: the commits beyond a hook's 20 have no lead time
            c["lead_time_seconds"]
            for c in self.truth["changes"]
            if mine(c, "deployed_at") and not c.get("beyond_hook")
        ]
        positive = [s for s in leads if s > 0]
        failed_ids = {f["deployment_id"] for f in self.truth["failures"] if f["deployment_id"]}
        failed = sum(d["deployment_id"] in failed_ids for d in deployments)
        failures = [f for f in self.truth["failures"] if mine(f, "started_at")]
        attempts = sum(f["kind"] in ("circuit_breaker", "failed_deployment") for f in failures)
        resolved = [f for f in failures if f["resolved_at"]]

        def seconds(f: dict) -> float:
            return (
                datetime.fromisoformat(f["resolved_at"]) - datetime.fromisoformat(f["started_at"])
            ).total_seconds()

        restores = [seconds(f) for f in resolved]
        recoveries = [seconds(f) for f in resolved if f["kind"] != "incident"]
        all_days = {self.local_day(d["deployed_at"]) for d in self.truth["deployments"]}
        weeks = [
            period + timedelta(days=n)
            for n in range((end - period).days)
            if (period + timedelta(days=n)).weekday() == 0
        ]
        existing = [
            w
            for w in weeks
            if any(self.covered(w + timedelta(days=n)) or w + timedelta(days=n) in all_days
                   for n in range(7))
        ]  # fmt: skip
        per_week = [sum(w <= d < w + timedelta(days=7) for d in days) for w in existing]
        per_week_median = statistics.median(per_week) if per_week else None
        covered = sum(self.covered(period + timedelta(days=n)) for n in range((end - period).days))
        changes = len(deployments) + attempts
        if not deployments:
            band = "no_data"
        elif per_week_median >= 5:
            band = "elite"
        elif per_week_median >= 1:
            band = "high"
        else:
            band = "medium"  # deployed in the period
        return {
            "deployments": len(deployments),
            "deployment_days": len(days),
            "deployment_days_per_week": per_week_median,
            "lead_time_median_seconds": _quantile(positive, 0.5),
            "lead_time_p90_seconds": _quantile(positive, 0.9),
            "lead_time_samples": len(positive),
            "lead_time_excluded": len(leads) - len(positive),
            "failed_deployments": failed,
            "failed_attempts": attempts,
            "change_failure_rate": (failed + attempts) / changes if changes else None,
            "time_to_restore_median_seconds": _quantile(restores, 0.5),
            "restore_samples": len(restores),
            "failed_deployment_recovery_median_seconds": _quantile(recoveries, 0.5),
            "failed_deployment_recovery_samples": len(recoveries),
            "deployment_frequency_band": band,
            "partial": covered < (end - period).days,
            "days_covered": covered,
        }


def _records(conn, grain: str) -> list[dict]:
    cursor = conn.execute(
        f"select * from marts.dora_{grain}ly where environment = 'production'"  # noqa: S608
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def runs(generated, tmp_path_factory):
    """The generated days run in UTC, then restated in Los Angeles: both marts' rows."""
    work = tmp_path_factory.mktemp("r2")
    settings = {
        "DORA4_ARCHIVE_URI": str(generated / "archive"),
        "DORA4_TAGS_FILE": str(generated / "tags.json"),
        "DORA4_WAREHOUSE": str(work / "w.duckdb"),
        "DORA4_PARTITIONS_START": "2026-03-01",
    }
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        for tz, extra in (("UTC", []), ("America/Los_Angeles", ["--restate-spec"])):
            patch.setenv("DORA4_TIMEZONE", tz)
            now = datetime.now(UTC)
            assert main(["run", "--start", "2026-03-16", "--end", "2026-03-17", *extra]) == 0
            with duckdb.connect(settings["DORA4_WAREHOUSE"], read_only=True) as conn:
                out[tz] = {grain: _records(conn, grain) for grain in ("week", "month")}
            out[tz]["now"] = now
            out[tz]["report"] = keys_report(settings["DORA4_WAREHOUSE"], "week")
    return out


@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
@pytest.mark.parametrize("grain", ["week", "month"])
def test_every_key_at_every_level_is_what_the_truth_implies(runs, truth, tz, grain):
    expected = Expected(truth, tz, runs[tz]["now"])
    rows = runs[tz][grain]
    checked = defaultdict(int)
    for row in rows:
        group = (row["ownership_ba"], row["ownership_pod"], row["ownership_team"])
        want = expected.values(grain, row["grouping"], row["period_start"], group)
        got = {k: row[k] for k in KEYS}
        assert got == pytest.approx(want), (row["grouping"], row["period_start"], group)
        assert row["spec_version"] == MetricSpec(timezone=tz).version
        checked[row["grouping"]] += bool(want["deployments"])
    assert all(checked[level] for level in ("team", "pod", "ba")), checked
    # every group-period the truth has deployments in has its row
    production = [d for d in truth["deployments"] if d["environment"] == "production"]
    for level in ("team", "pod", "ba"):
        wanted = {
            (Expected.start(expected.local_day(d["deployed_at"]), grain), Expected.group(d, level))
            for d in production
        }
        have = {
            (r["period_start"], (r["ownership_ba"], r["ownership_pod"], r["ownership_team"]))
            for r in rows
            if r["grouping"] == level
        }
        assert wanted <= have
    assert any(r["failed_attempts"] for r in rows), "the case has failed attempts"


def test_the_timezone_moves_periods_and_coverage(runs):
    """Los Angeles: the UTC days of 16-17 March reach back into the week of 9 March."""
    weeks = {tz: {r["period_start"] for r in runs[tz]["week"]} for tz in runs}
    assert weeks["UTC"] == {date(2026, 3, 16)}
    assert weeks["America/Los_Angeles"] == {date(2026, 3, 9), date(2026, 3, 16)}
    covered = {r["period_start"]: r["days_covered"] for r in runs["America/Los_Angeles"]["week"]}
    assert covered == {date(2026, 3, 9): 0, date(2026, 3, 16): 1}  # only local 16 March whole
    assert (
        "week of 2026-03-16 (PARTIAL: in progress or not every day materialized;"
        in (runs["UTC"]["report"])
    )


# hand-made facts ---------------------------------------------------------------------------
MARCH = date(2026, 3, 1)


@pytest.fixture
def conn(tmp_path):
    with WarehouseResource(path=str(tmp_path / "w.duckdb")).connect() as conn:
        yield conn


def deploy(conn, pod: str, when: datetime) -> str:
    deployment_id = f"lambda:{pod}-{when.isoformat()}"
    conn.execute(
        "insert into marts.fct_deployments values (?, ?, ?, 'lambda', 'lambda_function', "
        "?, ?, 'production', 'ns', '1', 'g/r', 'ba', ?, 'team', ?, 'obj', null)",
        [deployment_id, when, when.date(), pod, f"arn:{pod}", pod, deployment_id],
    )
    return deployment_id


def materialized(conn, first: date, last: date) -> None:
    conn.execute(
        "insert into ops.materialized_days select 'fct_deployments', cast(d as date), now() "
        "from generate_series(cast(? as timestamp), cast(? as timestamp), interval 1 day) t(d)",
        [first, last],
    )


def monthly(conn, as_of: datetime) -> dict:
    materialize_periods(conn, "month", MetricSpec(), MARCH, MARCH, as_of=as_of)
    rows = conn.execute(
        "select ownership_pod, deployments, deployment_days_per_week, "
        "deployment_frequency_band, partial, days_covered, change_failure_rate, "
        "failed_attempts from marts.dora_monthly where grouping = 'pod'"
    ).fetchall()
    return {pod: tuple(rest) for pod, *rest in rows}


def test_a_pod_deploying_every_day_of_the_weeks_that_exist_is_not_zero(conn):
    """Only 9-22 March materialized: the month's median is over those two weeks."""
    materialized(conn, date(2026, 3, 9), date(2026, 3, 22))
    for n in range(14):
        deploy(conn, "daily", datetime(2026, 3, 9 + n, 10, tzinfo=UTC))
    deploy(conn, "quiet", datetime(2026, 2, 20, 10, tzinfo=UTC))  # a group, not this month
    got = monthly(conn, datetime(2026, 12, 1, tzinfo=UTC))
    assert got["daily"][:5] == (14, 7.0, "elite", True, 14)
    assert got["quiet"][:4] == (0, 0.0, "no_data", True), "no deployments: no band"


def test_a_month_in_progress_is_partial_and_a_whole_one_is_not(conn):
    materialized(conn, date(2026, 2, 20), date(2026, 4, 10))
    deploy(conn, "p", datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert monthly(conn, datetime(2026, 3, 20, tzinfo=UTC))["p"][3:5] == (True, 19)
    assert monthly(conn, datetime(2026, 4, 1, tzinfo=UTC))["p"][3:5] == (False, 31)


def test_a_failed_attempt_is_a_failed_change_and_the_rollback_target_is_not_blamed(conn):
    """4 deployments (one the circuit breaker's rollback) and 1 failed attempt: 1 failed
    change of 5 changes. Deployment frequency still counts the 4 deployments."""
    materialized(conn, date(2026, 2, 20), date(2026, 4, 10))
    ids = [deploy(conn, "svc", datetime(2026, 3, 2 + n, 10, tzinfo=UTC)) for n in range(4)]
    conn.execute(
        "insert into marts.fct_failures by name select 'ecs:ecs-svc/9' as failure_id, "
        "'circuit_breaker' as kind, ? as started_at, ? as resolved_at, ? as day, "
        "'ecs:ecs-svc/9' as deployment_id, 'failed_attempt' as link_rule, 'svc' as "
        "component_name, 'production' as environment, 'ba' as ownership_ba, 'svc' as "
        "ownership_pod, 'team' as ownership_team",
        [datetime(2026, 3, 4, 9, tzinfo=UTC), datetime(2026, 3, 4, 10, tzinfo=UTC),
         date(2026, 3, 4)],
    )  # fmt: skip
    assert ids[2] != "ecs:ecs-svc/9"
    deployments, *_, cfr, attempts = monthly(conn, datetime(2026, 12, 1, tzinfo=UTC))["svc"]
    assert (deployments, attempts, cfr) == (4, 1, 0.2)


def test_an_r1_warehouse_upgrades_in_place_and_its_r1_rows_stay_r1(tmp_path):
    """An r1 warehouse (without r2's columns) connects, gains them, refuses to mix specs
    until restated, and keeps its r1 row as r1 with NULL in what r1 never computed."""
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    r2_columns = {
        "marts.fct_failures": ("link_rule", "link_reference", "severity"),
        "marts.dora_weekly": ("failed_attempts", "partial", "days_covered"),
        "marts.dora_monthly": ("failed_attempts", "partial", "days_covered"),
    }
    with warehouse.connect() as conn:  # made as r1 made it
        for table, columns in r2_columns.items():
            for column in columns:
                conn.execute(f"alter table {table} drop column {column}")
        conn.execute(
            "alter table marts.dora_weekly alter column deployment_days_per_week set not null"
        )
        conn.execute(
            "insert into marts.dora_weekly by name select date '2026-03-09' as period_start, "
            "'pod' as grouping, 'ba' as ownership_ba, 'p' as ownership_pod, '*' as "
            "ownership_team, 'production' as environment, 1 as deployments, 1 as "
            "deployment_days, 1 / 7 as deployment_rate_per_day, 1.0 as "
            "deployment_days_per_week, 0 as lead_time_samples, 0 as lead_time_excluded, "
            "0 as failed_deployments, 0 as restore_samples, 0 as "
            "failed_deployment_recovery_samples, 'high' as deployment_frequency_band, "
            "'no_data' as lead_time_band, 'elite' as change_failure_rate_band, 'no_data' as "
            "time_to_restore_band, 'r1-dora2023-utc' as spec_version"
        )
        conn.execute("insert into ops.metric_spec values ('r1-dora2023-utc', '{}', now())")
        conn.execute("drop table ops.prepared")  # as if the code changed
    with warehouse.connect() as conn:
        for table, columns in r2_columns.items():
            names = {row[0] for row in conn.execute(f"describe {table}").fetchall()}
            assert set(columns) <= names, table
        with pytest.raises(dg.Failure, match="restate"):
            adopt_spec(conn, MetricSpec(), restate=False)
        adopt_spec(conn, MetricSpec(), restate=True)
        deploy(conn, "p", datetime(2026, 3, 16, 10, tzinfo=UTC))
        materialize_periods(conn, "week", MetricSpec(), date(2026, 3, 16), date(2026, 3, 16))
        rows = conn.execute(
            "select period_start, spec_version, partial, failed_attempts from "
            "marts.dora_weekly where grouping = 'pod' order by 1"
        ).fetchall()
    assert rows == [
        (date(2026, 3, 9), "r1-dora2023-utc", None, None),
        (date(2026, 3, 16), MetricSpec().version, True, 0),
    ]
    assert MetricSpec().version.startswith(f"r{SPEC_REVISION}-") and SPEC_REVISION == 2
