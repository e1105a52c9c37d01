"""Datadog's tag rules, applied to values before they leave the system.

Tags start with a letter; hold letters, digits and `_ - : . /` (anything else becomes
`_`); are lowercased; and are at most 200 characters, key included. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_TAG_CHARS = 200
_ALLOWED_PUNCTUATION = set("_-:./")

# marts.deployment_frequency_daily column → Datadog tag key (docs/contract.md).
TAG_KEYS = {
    "ownership_ba": "dora4.ownership.ba",
    "ownership_pod": "dora4.ownership.pod",
    "ownership_team": "dora4.ownership.team",
    "environment": "dora4.environment",
    "component_name": "dora4.component.name",
    "component_type": "dora4.component.type",
    "event_source": "dora4.event.source",
    "compliance_namespace": "dora4.compliance.namespace",
    "git_project_id": "dora4.git.projectid",
    "git_repository": "dora4.git.repository",
}


def tag_value(value: str) -> str:
    """A value as Datadog would store it: lowercase, disallowed characters as `_`."""
    return "".join(
        ch if ch.isalnum() or ch in _ALLOWED_PUNCTUATION else "_" for ch in value.lower()
    )


def tag(key: str, value: str) -> str:
    """`key:value`, valid and cut to 200 characters (the key always survives whole)."""
    return f"{key}:{tag_value(value) or 'unassigned'}"[:MAX_TAG_CHARS]


def group_tags(row: Mapping[str, str]) -> list[str]:
    """The contract's tag set for one group of the daily mart, in a stable order."""
    return [tag(key, str(row[column])) for column, key in TAG_KEYS.items()]
