"""The repository stands alone: no file points outside it, and docs/contract.md, the page
that fixes the names users rely on, agrees with the code that is each name's home."""

import re
import subprocess
from pathlib import Path

from dora4_pipeline.publish.publications import BAND_METRICS, DEPLOYMENTS_DAILY, WEEKLY_METRICS
from dora4_pipeline.publish.tags import TAG_KEYS
from dora4_pipeline.settings import (
    DEFAULT_CUSTOM_SOURCE,
    DEFAULT_GITLAB_SOURCES,
    DEFAULT_OPSGENIE_SOURCES,
    SCHEMA_TAG_KEYS,
)

ROOT = Path(__file__).resolve().parent.parent
NAMES_DOC = (ROOT / "docs" / "contract.md").read_text()
# Spelled in pieces so that this file does not match itself.
OUTSIDE = re.compile(
    r"\b"
    + "CONTR"
    + "ACT"
    + r"\b|\.\./"
    + "shared|/"
    + "work/|\b"
    + "shared/"
    + "samples"
    + r"|\b"
    + "FACTS"
    + r"\.md|\b"
    + "STYLE"
    + r"\.md"
)


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_tracked_file_points_outside_the_repository():
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary (images, gzipped samples) or deleted in the worktree
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_check_can_fail():
    for outside in (
        "the " + "CONTR" + "ACT" + "'s rules",
        "../" + "shared/x",
        "shaped like /" + "work/" + "shared/" + "samples",
        "see " + "FACTS" + ".md",
    ):
        assert OUTSIDE.search(outside), outside


def test_contract_names_every_tag_key_with_its_column():
    for column, key in TAG_KEYS.items():
        assert f"| `{column}` | `{key}` |" in NAMES_DOC
    listed = re.findall(r"^\| `(\w+)` \| `(dora4\.[\w.]+)` \|$", NAMES_DOC, re.MULTILINE)
    assert dict(listed) == TAG_KEYS  # and nothing the code does not send


def test_contract_names_every_metric_and_no_other():
    sent = {DEPLOYMENTS_DAILY, *WEEKLY_METRICS.values(), *BAND_METRICS.values()}
    listed = set(re.findall(r"^\| `(dora4\.[\w.]+)` \| [^|]+ \| `marts\.", NAMES_DOC, re.M))
    assert listed == sent


def test_contract_names_the_tagging_schema_and_default_sources():
    schema_line = next(line for line in NAMES_DOC.splitlines() if line.startswith("`Ownership.BA`"))
    assert re.findall(r"`([\w.]+)`", schema_line) == list(SCHEMA_TAG_KEYS)
    for source in (*DEFAULT_GITLAB_SOURCES, *DEFAULT_OPSGENIE_SOURCES, DEFAULT_CUSTOM_SOURCE):
        assert f"`{source}`" in NAMES_DOC
