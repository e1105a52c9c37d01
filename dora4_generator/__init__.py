"""A deterministic EventBridge archive with known truth, for demos, tests and benchmarks.

`generate(out_dir, start=..., days=..., events_per_day=...)` writes the archive, the
tags file and truth.json (format in `build.py`); `events` holds the pure builders that
pipeline tests use to make small fixtures.
"""

from dora4_generator.build import generate

__all__ = ["generate"]
