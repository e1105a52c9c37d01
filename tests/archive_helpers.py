"""Writing hand-built events into Firehose's layout, for tests that need exact cases."""

import gzip
import json
from datetime import datetime
from pathlib import Path


def write_object(
    root: Path, delivered: datetime, events: list[dict], *, name: str, compress: bool = False
) -> Path:
    """One Firehose object: records concatenated without delimiter, as Firehose does."""
    folder = root / f"{delivered:%Y/%m/%d/%H}"
    folder.mkdir(parents=True, exist_ok=True)
    key = f"dora4-events-1-{delivered:%Y-%m-%d-%H-%M-%S}-{name}"
    body = "".join(json.dumps(event) for event in events).encode()
    if compress:
        path = folder / f"{key}.gz"
        path.write_bytes(gzip.compress(body))
    else:
        path = folder / key
        path.write_bytes(body)
    return path
