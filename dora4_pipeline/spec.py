"""The metric spec: how every DORA number is computed, versioned and printed beside it.

Users of other tools most often distrust numbers whose definitions changed silently, or
whose day boundaries or thresholds they cannot see. Every weekly and monthly row, and
every Datadog point of the four keys, carries `spec_version`; the warehouse remembers the
spec its marts were computed with and refuses to mix two (see `adopt_spec` in metrics/periods.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dora4_pipeline.errors import ConfigError

SPEC_REVISION = 2  # bump when a definition changes meaning; say how in REVISIONS
# What each revision changed (docs/metrics.md has the definitions). Rows keep the
# spec_version they were computed with: an r1 row is never relabelled r2.
REVISIONS = {
    1: "the four keys per team, pod and BA, weekly and monthly, with bands",
    2: (
        "a rollback, redeploy or roll-forward ships no commits; a roll-forward is no "
        "rollback; an ECS circuit breaker blames its failed attempt (a failed change in "
        "the change failure rate's numerator and denominator), not the deployment rolled "
        "back to; explicit incident links win (link_rule); partial periods are marked; "
        "no deployments is frequency band no_data; monthly deployment days per week over "
        "the weeks that exist"
    ),
}
HOUR, DAY, WEEK = 3600, 86_400, 7 * 86_400

# Thresholds per band set. Deployment frequency: deployment days per week (median over a
# month's weeks for monthly rows); a group below `high` is medium if it deployed at all in
# the trailing 4 weeks (weekly) or in the month (monthly). Lead time and time to restore:
# upper bounds in seconds (strictly below). Change failure rate: upper bounds (at most).
BANDS = {
    "dora2023": {
        "df_elite_days_per_week": 5.0,
        "df_high_days_per_week": 1.0,
        "lead_time_seconds": (DAY, WEEK, 30 * DAY),
        "change_failure_rate": (0.05, 0.10, 0.15),
        "time_to_restore_seconds": (HOUR, DAY, WEEK),
    },
    "dora2021": {
        "df_elite_days_per_week": 5.0,
        "df_high_days_per_week": 1.0,
        "lead_time_seconds": (HOUR, WEEK, 182 * DAY),
        "change_failure_rate": (0.15, 0.30, 0.30),
        "time_to_restore_seconds": (HOUR, DAY, WEEK),
    },
}


@dataclass(frozen=True)
class MetricSpec:
    timezone: str = "UTC"  # reporting timezone: where a day, week and month begin
    bands: str = "dora2023"
    # Recorded with the spec, not choices: the period SQL uses ISO weeks and quantile_cont.
    week_start: str = field(default="monday", init=False)
    median: str = field(default="quantile_cont", init=False)  # interpolated median and p90

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"DORA4_TIMEZONE: '{self.timezone}' is not an IANA timezone (e.g. Europe/Berlin)"
            ) from None
        if self.bands not in BANDS:
            raise ConfigError(f"DORA4_BANDS: '{self.bands}' is not one of {sorted(BANDS)}")

    @property
    def version(self) -> str:
        """E.g. `r2-dora2023-europe_berlin`: every choice that changes a number."""
        zone = self.timezone.lower().replace("/", "_")
        return f"r{SPEC_REVISION}-{self.bands}-{zone}"

    def sql_params(self) -> dict:
        """The spec as bound parameters of the period models (never formatted into SQL)."""
        bands = BANDS[self.bands]
        lead, cfr, restore = (
            bands["lead_time_seconds"],
            bands["change_failure_rate"],
            bands["time_to_restore_seconds"],
        )
        return {
            "tz": self.timezone,
            "spec_version": self.version,
            "df_elite": bands["df_elite_days_per_week"],
            "df_high": bands["df_high_days_per_week"],
            "lt_elite": lead[0],
            "lt_high": lead[1],
            "lt_medium": lead[2],
            "cfr_elite": cfr[0],
            "cfr_high": cfr[1],
            "cfr_medium": cfr[2],
            "ttr_elite": restore[0],
            "ttr_high": restore[1],
            "ttr_medium": restore[2],
        }

    def periods_touching(self, first: date, last: date, grain: str) -> tuple[date, date]:
        """First and last period start (in the reporting timezone) that UTC days
        first..last fall into: the periods a partition run must recompute."""
        zone = ZoneInfo(self.timezone)
        utc = ZoneInfo("UTC")
        start = datetime.combine(first, time(), utc).astimezone(zone).date()
        end = datetime.combine(last + timedelta(days=1), time(), utc) - timedelta(seconds=1)
        return period_start(start, grain), period_start(end.astimezone(zone).date(), grain)


def period_start(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown grain {grain!r}")
