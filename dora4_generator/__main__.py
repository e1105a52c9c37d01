"""`python -m dora4_generator OUT --start 2026-03-17 --days 2 --events-per-day 3000`."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from dora4_generator.build import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dora4_generator")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--events-per-day", type=int, default=3000)
    parser.add_argument("--deployment-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-corrupt", dest="corrupt", action="store_false")
    args = parser.parse_args(argv)
    summary = generate(
        args.out_dir,
        start=args.start,
        days=args.days,
        events_per_day=args.events_per_day,
        seed=args.seed,
        deployment_share=args.deployment_share,
        corrupt=args.corrupt,
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
