"""The code location workspace.yaml loads (`dagster dev`, the daemon): built from the
environment once, when Dagster imports it."""

from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.settings import Settings

defs = build_definitions(Settings.from_env())
