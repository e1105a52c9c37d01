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

from dagster._utils.schedules import is_valid_cron_string

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.spec import MetricSpec

DEMO_DIR = "data/demo"
DEFAULT_ARCHIVE = f"{DEMO_DIR}/archive/"
DEMO_TAGS_FILE = f"{DEMO_DIR}/tags.json"
DEFAULT_WAREHOUSE = "data/dora4.duckdb"
DEFAULT_PARTITIONS_START = "2025-01-01"
DEFAULT_LATENESS_HOURS = 24
DEFAULT_UNASSIGNED_WARN_SHARE = 0.25
DEFAULT_SCHEDULE_CRON = "0 2 * * *"  # 02:00 UTC
DEFAULT_GITLAB_SOURCE = "gitlab"  # EventBridge `source` of the webhooks (CONTRACT.md)
DEFAULT_OPSGENIE_SOURCE = "opsgenie"
DEFAULT_SENSOR_LOOKBACK_DAYS = 14

# The tagging schema (CONTRACT.md). Each key also answers to its lowercase spelling.
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
    gitlab_source: str = DEFAULT_GITLAB_SOURCE
    opsgenie_source: str = DEFAULT_OPSGENIE_SOURCE
    sensor_lookback_days: int = DEFAULT_SENSOR_LOOKBACK_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        archive_uri = env.get("DORA4_ARCHIVE_URI") or DEFAULT_ARCHIVE
        # The demo archive comes with its tags file: the default setup needs no AWS.
        demo_tags = DEMO_TAGS_FILE if archive_uri == DEFAULT_ARCHIVE else None
        return cls(
            archive_uri=archive_uri,
            warehouse=env.get("DORA4_WAREHOUSE") or DEFAULT_WAREHOUSE,
            parquet_uri=env.get("DORA4_PARQUET_URI") or None,
            tags_file=env.get("DORA4_TAGS_FILE") or demo_tags,
            partitions_start=parse_day(
                env.get("DORA4_PARTITIONS_START") or DEFAULT_PARTITIONS_START,
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
            gitlab_source=env.get("DORA4_GITLAB_SOURCE") or DEFAULT_GITLAB_SOURCE,
            opsgenie_source=env.get("DORA4_OPSGENIE_SOURCE") or DEFAULT_OPSGENIE_SOURCE,
            sensor_lookback_days=_parse_lookback(env.get("DORA4_SENSOR_LOOKBACK_DAYS")),
        )

    def __post_init__(self) -> None:
        if self.tag_accounts and not self.tag_role_arn:
            raise ConfigError(
                "DORA4_TAG_ACCOUNTS needs DORA4_TAG_ROLE_ARN: accounts are read through the "
                "role assumed in each"
            )

    @property
    def spec(self) -> MetricSpec:
        """The metric spec; a bad timezone or band set is a ConfigError here."""
        return MetricSpec(timezone=self.timezone, bands=self.bands)

    @property
    def parquet_location(self) -> str:
        return self.parquet_uri or str(Path(self.warehouse).parent / "parquet")

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


def analyst_copy_path(warehouse: str) -> Path:
    """data/dora4.duckdb → data/dora4.analytics.duckdb: the copy analysts keep open."""
    path = Path(warehouse)
    return path.with_name(f"{path.stem}.analytics{path.suffix or '.duckdb'}")


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: '{text}' is not a date; write it as YYYY-MM-DD") from None


def _parse_hours(text: str | None) -> int:
    if not text:
        return DEFAULT_LATENESS_HOURS
    if not text.isdigit() or int(text) > 24 * 31:
        raise ConfigError(f"DORA4_LATENESS_HOURS: '{text}' must be whole hours from 0 to 744")
    return int(text)


def _parse_cron(text: str | None) -> str:
    if not text:
        return DEFAULT_SCHEDULE_CRON
    if not is_valid_cron_string(text):
        raise ConfigError(f"DORA4_SCHEDULE_CRON: '{text}' is not a cron expression (UTC)")
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


def _parse_aliases(text: str | None) -> dict[str, tuple[str, ...]]:
    """DORA4_TAG_ALIASES='{"Ownership.Pod": ["pod", "squad"]}': extra spellings per key."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError
        aliases = {key: tuple(str(a) for a in values) for key, values in raw.items()}
    except (ValueError, TypeError):
        raise ConfigError(
            'DORA4_TAG_ALIASES must be JSON like {"Ownership.Pod": ["ownership.pod"]}'
        ) from None
    unknown = sorted(set(aliases) - set(SCHEMA_TAG_KEYS))
    if unknown:
        raise ConfigError(
            f"DORA4_TAG_ALIASES: {unknown} not in the tagging schema {list(SCHEMA_TAG_KEYS)}"
        )
    return aliases
