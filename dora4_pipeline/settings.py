"""The environment, read in one place (definitions.py and the CLI call `Settings.from_env`).

Every variable is optional; defaults run the bundled demo. See the README's table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.events.records import DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_RECORD_BYTES, Limits
from dora4_pipeline.resources.network import (
    AWS_RETRY_MODES,
    DEFAULT_AWS_MAX_ATTEMPTS,
    DEFAULT_AWS_RETRY_MODE,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    AwsNetwork,
)
from dora4_pipeline.spec import MetricSpec

DEMO_DIR = "data/demo"
DEFAULT_ARCHIVE = f"{DEMO_DIR}/archive/"
DEMO_TAGS_FILE = f"{DEMO_DIR}/tags.json"
DEFAULT_WAREHOUSE = "data/dora4.duckdb"
DEFAULT_PARTITIONS_START = "2025-01-01"
# The demo archive's first day: its partitions start there, so the UI shows no empty year.
DEMO_START = date(2026, 3, 2)
DEMO_DAYS = 28  # four weeks: the weekly trends have something to show
DEMO_EVENTS_PER_DAY = 1000
DEFAULT_LATENESS_HOURS = 24
DEFAULT_UNASSIGNED_WARN_SHARE = 0.25
DEFAULT_SCHEDULE_CRON = "0 2 * * *"  # 02:00 UTC
# EventBridge `source` of each kind of event the pipeline reads beside AWS's own: GitLab's
# webhooks (through a relay), Opsgenie's alerts (the partner source names org and integration,
# so a trailing `*` makes an entry a prefix), and the custom `Deployment`/`Incident` events.
DEFAULT_GITLAB_SOURCES = ("gitlab",)
DEFAULT_OPSGENIE_SOURCES = ("opsgenie", "aws.partner/opsgenie.com/*")
DEFAULT_CUSTOM_SOURCE = "dora4"
DEFAULT_SENSOR_LOOKBACK_DAYS = 14
# Change times plausible around their delivery: EventBridge and Firehose each retry for up
# to 24 h, so a week back covers a delivery retried twice over with room to spare; a day
# ahead covers a fast clock. Never shorter back than the lateness window waits for.
DEFAULT_MAX_CHANGE_AGE_DAYS = 7
DEFAULT_MAX_CHANGE_AHEAD_DAYS = 1

# The tagging schema (docs/contract.md). Each key also answers to its lowercase spelling.
SCHEMA_TAG_KEYS = (
    "Ownership.BA",
    "Ownership.Pod",
    "Ownership.Team",
    "Environment",
    "Component.Name",
    "Compliance.Namespace",
    "Git.Projectid",
    "Git.Repository",
)


@dataclass(frozen=True)
class Settings:
    archive_uri: str = DEFAULT_ARCHIVE
    warehouse: str = DEFAULT_WAREHOUSE
    parquet_uri: str | None = None  # unset: a `parquet/` folder beside the warehouse
    tags_file: str | None = None
    partitions_start: str = DEFAULT_PARTITIONS_START
    lateness_hours: int = DEFAULT_LATENESS_HOURS
    tag_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tag_regions: tuple[str, ...] = ()
    tag_role_arn: str | None = None  # template with {account}: read every account through it
    tag_accounts: tuple[str, ...] = ()
    unassigned_warn_share: float = DEFAULT_UNASSIGNED_WARN_SHARE
    schedule_cron: str = DEFAULT_SCHEDULE_CRON
    timezone: str = "UTC"
    bands: str = "dora2023"
    datadog_dora_api: bool = False
    gitlab_sources: tuple[str, ...] = DEFAULT_GITLAB_SOURCES
    opsgenie_sources: tuple[str, ...] = DEFAULT_OPSGENIE_SOURCES
    custom_source: str = DEFAULT_CUSTOM_SOURCE
    sensor_lookback_days: int = DEFAULT_SENSOR_LOOKBACK_DAYS
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    aws_max_attempts: int = DEFAULT_AWS_MAX_ATTEMPTS
    aws_retry_mode: str = DEFAULT_AWS_RETRY_MODE
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_change_age_days: int | None = None  # unset: the default, or longer if lateness is
    max_change_ahead_days: int = DEFAULT_MAX_CHANGE_AHEAD_DAYS

    def __post_init__(self) -> None:
        if self.tag_accounts and not self.tag_role_arn:
            raise ConfigError(
                "DORA4_TAG_ACCOUNTS needs DORA4_TAG_ROLE_ARN: accounts are read through the "
                "role assumed in each"
            )
        age = self.max_change_age_days
        if age is not None and age < self.lateness_days + 1:
            raise ConfigError(
                f"DORA4_MAX_CHANGE_AGE_DAYS: {self.max_change_age_days} days would dead-letter "
                f"deliveries that DORA4_LATENESS_HOURS ({self.lateness_hours}) waits for; set it "
                f"to at least {self.lateness_days + 1}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        archive_uri = env.get("DORA4_ARCHIVE_URI") or DEFAULT_ARCHIVE
        # The demo archive comes with its tags file: the default setup needs no AWS.
        demo = archive_uri == DEFAULT_ARCHIVE
        demo_tags = DEMO_TAGS_FILE if demo else None
        first_partition = DEMO_START.isoformat() if demo else DEFAULT_PARTITIONS_START
        return cls(
            archive_uri=archive_uri,
            warehouse=env.get("DORA4_WAREHOUSE") or DEFAULT_WAREHOUSE,
            parquet_uri=env.get("DORA4_PARQUET_URI") or None,
            tags_file=env.get("DORA4_TAGS_FILE") or demo_tags,
            partitions_start=parse_day(
                env.get("DORA4_PARTITIONS_START") or first_partition,
                "DORA4_PARTITIONS_START",
            ).isoformat(),
            lateness_hours=_parse_hours(env.get("DORA4_LATENESS_HOURS")),
            tag_aliases=_parse_aliases(env.get("DORA4_TAG_ALIASES")),
            tag_regions=tuple(
                r.strip() for r in (env.get("DORA4_TAG_REGIONS") or "").split(",") if r.strip()
            ),
            tag_role_arn=_parse_role_template(env.get("DORA4_TAG_ROLE_ARN")),
            tag_accounts=_parse_accounts(env.get("DORA4_TAG_ACCOUNTS")),
            unassigned_warn_share=_parse_share(env.get("DORA4_UNASSIGNED_WARN_SHARE")),
            schedule_cron=_parse_cron(env.get("DORA4_SCHEDULE_CRON")),
            timezone=env.get("DORA4_TIMEZONE") or "UTC",
            bands=env.get("DORA4_BANDS") or "dora2023",
            datadog_dora_api=(env.get("DORA4_DATADOG_DORA_API") or "").lower()
            in ("1", "true", "yes"),
            gitlab_sources=_parse_sources(
                env.get("DORA4_GITLAB_SOURCE"), DEFAULT_GITLAB_SOURCES, "DORA4_GITLAB_SOURCE"
            ),
            opsgenie_sources=_parse_sources(
                env.get("DORA4_OPSGENIE_SOURCE"), DEFAULT_OPSGENIE_SOURCES, "DORA4_OPSGENIE_SOURCE"
            ),
            custom_source=_parse_sources(
                env.get("DORA4_CUSTOM_SOURCE"), (DEFAULT_CUSTOM_SOURCE,), "DORA4_CUSTOM_SOURCE"
            )[0],
            sensor_lookback_days=_parse_lookback(env.get("DORA4_SENSOR_LOOKBACK_DAYS")),
            max_record_bytes=_parse_whole(
                env, "DORA4_MAX_RECORD_BYTES", DEFAULT_MAX_RECORD_BYTES, 1 << 20, 1 << 30
            ),
            max_json_depth=_parse_whole(
                env, "DORA4_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH, 16, 512
            ),
            max_change_age_days=_parse_whole(env, "DORA4_MAX_CHANGE_AGE_DAYS", None, 1, 3650),
            max_change_ahead_days=_parse_whole(
                env, "DORA4_MAX_CHANGE_AHEAD_DAYS", DEFAULT_MAX_CHANGE_AHEAD_DAYS, 0, 365
            ),
            **http_timeouts(env),
            aws_max_attempts=_parse_attempts(env.get("DORA4_AWS_MAX_ATTEMPTS")),
            aws_retry_mode=_parse_retry_mode(env.get("DORA4_AWS_RETRY_MODE")),
        )

    @property
    def aws_network(self) -> AwsNetwork:
        """Timeouts and retry budget of every AWS client (S3, the Tagging API)."""
        return AwsNetwork(
            connect_timeout_seconds=self.connect_timeout_seconds,
            read_timeout_seconds=self.read_timeout_seconds,
            max_attempts=self.aws_max_attempts,
            retry_mode=self.aws_retry_mode,
        )

    @property
    def spec(self) -> MetricSpec:
        """The metric spec; a bad timezone or band set is a ConfigError here."""
        return MetricSpec(timezone=self.timezone, bands=self.bands)

    @property
    def parquet_location(self) -> str:
        return self.parquet_uri or str(Path(self.warehouse).parent / "parquet")

    @property
    def record_limits(self) -> Limits:
        """What one archive record may be before it is a dead letter."""
        return Limits(max_record_bytes=self.max_record_bytes, max_json_depth=self.max_json_depth)

    @property
    def change_age_days(self) -> int:
        """How many days before its delivery a change time is still plausible."""
        if self.max_change_age_days is not None:
            return self.max_change_age_days
        return max(DEFAULT_MAX_CHANGE_AGE_DAYS, self.lateness_days + 1)

    @property
    def lateness_days(self) -> int:
        """Whole days of later deliveries a day's deployments wait for (ceil of the hours)."""
        return -(-self.lateness_hours // 24)


def alias_rows(aliases: Mapping[str, Sequence[str]]) -> list[tuple[str, str, int]]:
    """(alias, canonical, priority) for every key spelling that maps onto the tagging schema."""
    rows: dict[str, tuple[str, str, int]] = {}
    for canonical in SCHEMA_TAG_KEYS:
        spellings = (canonical, canonical.lower(), *aliases.get(canonical, ()))
        for priority, alias in enumerate(dict.fromkeys(spellings)):
            rows.setdefault(alias, (alias, canonical, priority))
    return list(rows.values())


def source_rows(
    gitlab: Sequence[str], opsgenie: Sequence[str], custom: str
) -> list[tuple[str, str, bool]]:
    """(kind, source, is_prefix) for ops.event_sources: `aws.partner/opsgenie.com/*` is the
    prefix `aws.partner/opsgenie.com/`."""
    entries = [("gitlab", e) for e in gitlab] + [("opsgenie", e) for e in opsgenie]
    entries.append(("custom", custom))
    rows = ((kind, entry.removesuffix("*"), entry.endswith("*")) for kind, entry in entries)
    return list(dict.fromkeys(rows))


def analyst_copy_path(warehouse: str) -> Path:
    """data/dora4.duckdb → data/dora4.analytics.duckdb: the copy analysts keep open."""
    path = Path(warehouse)
    return path.with_name(f"{path.stem}.analytics{path.suffix or '.duckdb'}")


def report_path(warehouse: str) -> Path:
    """data/dora4.duckdb → data/dora4.report.html: the four keys, drawn after every run."""
    path = Path(warehouse)
    return path.with_name(f"{path.stem}.report.html")


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: '{text}' is not a date; write it as YYYY-MM-DD") from None


def http_timeouts(env: Mapping[str, str]) -> dict[str, float]:
    """DORA4_HTTP_CONNECT_TIMEOUT and DORA4_HTTP_READ_TIMEOUT (seconds): every HTTP call's
    limits, Datadog's as well as AWS's."""
    return {
        "connect_timeout_seconds": _parse_seconds(
            env.get("DORA4_HTTP_CONNECT_TIMEOUT"),
            "DORA4_HTTP_CONNECT_TIMEOUT",
            DEFAULT_CONNECT_TIMEOUT_SECONDS,
        ),
        "read_timeout_seconds": _parse_seconds(
            env.get("DORA4_HTTP_READ_TIMEOUT"),
            "DORA4_HTTP_READ_TIMEOUT",
            DEFAULT_READ_TIMEOUT_SECONDS,
        ),
    }


def parse_url(text: str | None, variable: str) -> str | None:
    """An http(s) URL with a host, or None when unset."""
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{variable}: '{text}' is not a URL; write it as https://host[:port], "
            "or leave it unset for https://api.<DD_SITE>"
        )
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ConfigError(f"{variable}: '{text}' has a port that is not a number") from None
    return text


def _parse_seconds(text: str | None, variable: str, default: float) -> float:
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{variable}: '{text}' must be seconds, more than 0 and at most 3600")
    return seconds


def _parse_attempts(text: str | None) -> int:
    if not text:
        return DEFAULT_AWS_MAX_ATTEMPTS
    if not text.isdigit() or not 1 <= int(text) <= 50:
        raise ConfigError(
            f"DORA4_AWS_MAX_ATTEMPTS: '{text}' must be a whole number of attempts from 1 to 50"
        )
    return int(text)


def _parse_retry_mode(text: str | None) -> str:
    if not text:
        return DEFAULT_AWS_RETRY_MODE
    if text not in AWS_RETRY_MODES:
        raise ConfigError(f"DORA4_AWS_RETRY_MODE: '{text}' is not one of {list(AWS_RETRY_MODES)}")
    return text


def _parse_hours(text: str | None) -> int:
    if not text:
        return DEFAULT_LATENESS_HOURS
    if not text.isdigit() or int(text) > 24 * 31:
        raise ConfigError(f"DORA4_LATENESS_HOURS: '{text}' must be whole hours from 0 to 744")
    return int(text)


def _parse_whole(
    env: Mapping[str, str], name: str, default: int | None, low: int, high: int
) -> int | None:
    """A whole number from low to high (digits only: `16777216`, not `16MB`)."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError(f"{name}: '{text}' must be a whole number from {low:,} to {high:,}")
    return int(text)


def _parse_cron(text: str | None) -> str:
    """Checked the way the daily schedule will be built: Dagster's public schedule
    definition refuses what it cannot run (it has no public validator of its own)."""
    if not text:
        return DEFAULT_SCHEDULE_CRON
    import dagster as dg  # here, not at import: reading settings should not load Dagster

    try:
        dg.ScheduleDefinition(
            name="dora4_cron_check", cron_schedule=text, target=dg.AssetSelection.all()
        )
    except dg.DagsterInvalidDefinitionError:
        raise ConfigError(f"DORA4_SCHEDULE_CRON: '{text}' is not a cron expression (UTC)") from None
    return text


def _parse_lookback(text: str | None) -> int:
    if not text:
        return DEFAULT_SENSOR_LOOKBACK_DAYS
    if not text.isdigit() or not 1 <= int(text) <= 366:
        raise ConfigError(f"DORA4_SENSOR_LOOKBACK_DAYS: '{text}' must be whole days from 1 to 366")
    return int(text)


def _parse_role_template(text: str | None) -> str | None:
    """DORA4_TAG_ROLE_ARN='arn:aws:iam::{account}:role/dora4-tag-reader'."""
    if not text:
        return None
    if not text.startswith("arn:") or "{account}" not in text or ":role/" not in text:
        raise ConfigError(
            f"DORA4_TAG_ROLE_ARN: '{text}' must be a role ARN template with {{account}}, "
            "like arn:aws:iam::{account}:role/dora4-tag-reader"
        )
    return text


def _parse_accounts(text: str | None) -> tuple[str, ...]:
    """DORA4_TAG_ACCOUNTS='111122223333,444455556666': accounts read even with no events."""
    accounts = tuple(a.strip() for a in (text or "").split(",") if a.strip())
    bad = [a for a in accounts if not (a.isdigit() and len(a) == 12)]
    if bad:
        raise ConfigError(f"DORA4_TAG_ACCOUNTS: {bad} are not 12-digit AWS account ids")
    return accounts


def _parse_share(text: str | None) -> float:
    if not text:
        return DEFAULT_UNASSIGNED_WARN_SHARE
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise ConfigError(f"DORA4_UNASSIGNED_WARN_SHARE: '{text}' must be a share from 0 to 1")
    return share


def _parse_sources(text: str | None, default: tuple[str, ...], what: str) -> tuple[str, ...]:
    """A comma-separated list of EventBridge sources; an entry ending in `*` is a prefix."""
    if not text:
        return default
    entries = tuple(e.strip() for e in text.split(",") if e.strip())
    for entry in entries:
        if "*" in entry.removesuffix("*") or entry == "*":
            raise ConfigError(
                f"{what}: '{entry}' — write exact sources or prefixes ending in one '*', "
                "like gitlab,aws.partner/opsgenie.com/*"
            )
    if not entries:
        raise ConfigError(f"{what}: '{text}' names no source")
    return entries


def _parse_aliases(text: str | None) -> dict[str, tuple[str, ...]]:
    """DORA4_TAG_ALIASES='{"Ownership.Pod": ["pod", "squad"]}': extra spellings per key."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError
    except ValueError:
        raise ConfigError(
            'DORA4_TAG_ALIASES must be JSON like {"Ownership.Pod": ["ownership.pod"]}'
        ) from None
    for key, values in raw.items():
        # A string is iterable too: "squad" would become the aliases s, q, u, a, d.
        if not isinstance(values, list) or not all(isinstance(a, str) for a in values):
            raise ConfigError(
                f"DORA4_TAG_ALIASES: the value of {key!r} must be a list of strings, "
                f'e.g. {{"{key}": ["{values if isinstance(values, str) else "alias"}"]}}'
            )
    aliases = {key: tuple(values) for key, values in raw.items()}
    unknown = sorted(set(aliases) - set(SCHEMA_TAG_KEYS))
    if unknown:
        raise ConfigError(
            f"DORA4_TAG_ALIASES: {unknown} not in the tagging schema {list(SCHEMA_TAG_KEYS)}"
        )
    return aliases
