"""The Datadog dashboard as code (deployment_frequency.json), shipped inside the package
so that `dora4 dashboard` finds it in a plain, non-editable install. Holds no Python."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
