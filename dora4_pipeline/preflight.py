"""Checks of the places a run writes, before it starts: a bad folder is one line naming
the variable and the fix (exit 2), not a stack trace from a step half-way through."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.settings import Settings


def check_locations(settings: Settings) -> None:
    check_warehouse(settings.warehouse)
    if settings.parquet_uri and not settings.parquet_uri.startswith("s3://"):
        check_folder(Path(settings.parquet_uri), "DORA4_PARQUET_URI")
    elif not settings.parquet_uri:
        check_folder(Path(settings.parquet_location), "DORA4_WAREHOUSE")


def check_warehouse(path_text: str) -> None:
    """The file, its analysts' copy and its `parquet/` go in its folder: that folder must
    be (or become) a writable folder, and the path itself must not be a folder."""
    path = Path(path_text)
    if path.is_dir():
        raise ConfigError(
            f"DORA4_WAREHOUSE: '{path}' is a folder; name the DuckDB file inside it, "
            f"e.g. {path / 'dora4.duckdb'}"
        )
    check_folder(path.parent, "DORA4_WAREHOUSE")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ConfigError(
            f"DORA4_WAREHOUSE: '{path}' is not readable and writable by this user; "
            "fix its permissions or point DORA4_WAREHOUSE elsewhere"
        )


def check_folder(folder: Path, variable: str) -> None:
    """`folder` is a folder we can write in, or can be made one (nothing on the way is a
    file). Writing is tried, not inferred from mode bits: root ignores them, and a
    read-only mount or an immutable folder refuses root too."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(
            f"{variable}: '{folder}' is under '{existing}', which is a file, not a folder; "
            f"move that file or point {variable} elsewhere"
        )
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".dora4-write-check-"):
            pass
    except OSError as error:
        raise ConfigError(
            f"{variable}: cannot write in '{existing}' ({error.strerror or error}); "
            f"make it writable for this user or point {variable} at a writable folder"
        ) from None
