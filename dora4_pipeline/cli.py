"""`dora4`: run, report, generate, demo, dashboard. Errors end in one line naming what to fix.

Each subcommand imports what it needs when it runs (the code location, the HTML report,
the demo, the dashboard client, the pool), so none pays for the others' imports."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from dora4_pipeline.errors import ConfigError, RunFailed, ServiceError
from dora4_pipeline.report import GROUPINGS
from dora4_pipeline.settings import (
    DEMO_DAYS,
    DEMO_DIR,
    DEMO_EVENTS_PER_DAY,
    DEMO_START,
    Settings,
    parse_day,
)


def main(argv: list[str] | None = None) -> int:
    """`argv` None: the program itself (the `dora4` script, `python -m`), which tunes the
    garbage collector for a short-lived process (`_short_lived`); a caller in-process
    (tests) passes its arguments and keeps its own collector settings."""
    if argv is None:
        _short_lived()
    try:
        return _command(argv)
    finally:
        if argv is None:
            gc.freeze()  # the interpreter's exit then skips a collection over every object


def _command(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except ConfigError as error:
        print(f"dora4: {error}", file=sys.stderr)
        return 2
    except RunFailed as error:
        print(f"dora4: the run failed: {error}", file=sys.stderr)
        return 1
    except ServiceError as error:
        print(f"dora4: {error}", file=sys.stderr)
        return 1


def _short_lived() -> None:
    """A `dora4` process imports Dagster (some 110,000 objects the collector tracks) and
    ends within seconds to minutes: what is imported lives until exit, so `gc.freeze` takes
    it out of every later collection, which then looks only at what the run made. Cycles
    the run makes are still collected; measured in docs/performance.md ("Fixed costs,
    cut")."""
    gc.freeze()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dora4", description=__doc__)
    commands = parser.add_subparsers(required=True)

    run = commands.add_parser("run", help="materialize every asset for days START..END (UTC)")
    run.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    run.add_argument("--end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    run.add_argument(
        "--restate-spec",
        action="store_true",
        help="recompute the weekly/monthly marts with a changed DORA4_TIMEZONE/DORA4_BANDS",
    )
    run.set_defaults(command=_run)

    report = commands.add_parser(
        "report",
        help="print deployment frequency for START..END; draw the four keys (--html/--png)",
    )
    report.add_argument("--start", help="first day, YYYY-MM-DD")
    report.add_argument("--end", help="last day, YYYY-MM-DD (inclusive)")
    report.add_argument("--by", choices=sorted(GROUPINGS), default="pod")
    report.add_argument(
        "--keys",
        choices=["week", "month"],
        help="also print the four DORA keys by pod for the latest week or month",
    )
    report.add_argument(
        "--html", type=Path, help="write the four keys as one self-contained page (opens offline)"
    )
    report.add_argument("--png", type=Path, help="write the same view as a PNG (organisation)")
    report.add_argument("--weeks", type=int, help="weeks of trend in --html/--png")
    report.set_defaults(command=_report)

    generate = commands.add_parser("generate", help="write a realistic archive with known truth")
    generate.add_argument("--out", default=DEMO_DIR, help="folder: archive/, truth.json, tags.json")
    generate.add_argument("--start", default=DEMO_START.isoformat())
    generate.add_argument("--days", type=int, default=DEMO_DAYS)
    generate.add_argument("--events-per-day", type=int, default=DEMO_EVENTS_PER_DAY)
    generate.add_argument("--deployment-share", type=float, default=0.05)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--no-corrupt", action="store_true", help="leave out damaged objects")
    generate.set_defaults(command=_generate)

    demo = commands.add_parser("demo", help="generate the demo archive and run the pipeline on it")
    demo.set_defaults(command=_demo)

    dashboard = commands.add_parser("dashboard", help="create or update the Datadog dashboard")
    dashboard.add_argument(
        "--file", type=Path, help="dashboard JSON (default: the bundled deployment_frequency.json)"
    )
    dashboard.set_defaults(command=_dashboard)
    pool = commands.add_parser(
        "pool", help="who holds the dora4_warehouse pool's slot on $DAGSTER_HOME's instance"
    )
    pool.add_argument("--free", metavar="RUN_ID", help="free a dead run's slots (marks it failed)")
    pool.set_defaults(command=_pool)
    return parser


def _run(args: argparse.Namespace) -> int:
    from dora4_pipeline.report import run_summary
    from dora4_pipeline.runner import run_range

    settings = Settings.from_env()
    first, last = parse_day(args.start, "--start"), parse_day(args.end, "--end")
    run_range(settings, first, last, restate_spec=args.restate_spec)
    print(run_summary(settings.warehouse, first, last))
    return 0


def _report(args: argparse.Namespace) -> int:
    from dora4_pipeline.report import frequency_report, keys_report, readable_warehouse
    from dora4_pipeline.report_html import DEFAULT_WEEKS, write_report

    warehouse = readable_warehouse(Settings.from_env().warehouse)
    weeks = DEFAULT_WEEKS if args.weeks is None else args.weeks
    drawing = args.html or args.png
    if not (drawing or args.start or args.end):
        raise ConfigError(
            "say what to report: --start and --end for deployment frequency, "
            "--html/--png for the four keys"
        )
    if drawing:
        if weeks < 1:
            raise ConfigError(f"--weeks: {weeks} must be at least 1")
        if write_report(warehouse, args.html, args.png, weeks) is None:
            raise ConfigError(f"no weekly DORA rows in {warehouse}: run `dora4 run` first")
        print("\n".join(f"wrote {path}" for path in (args.html, args.png) if path))
    if args.start or args.end:
        if not (args.start and args.end):
            raise ConfigError("--start and --end go together")
        first, last = parse_day(args.start, "--start"), parse_day(args.end, "--end")
        if last < first:
            raise ConfigError(f"--end {last} is before --start {first}")
        print(frequency_report(warehouse, first, last, args.by))
        if args.keys:
            print(keys_report(warehouse, args.keys))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from dora4_pipeline.demo import load_generator

    summary = load_generator()(
        Path(args.out),
        start=parse_day(args.start, "--start"),
        days=args.days,
        events_per_day=args.events_per_day,
        seed=args.seed,
        deployment_share=args.deployment_share,
        corrupt=not args.no_corrupt,
    )
    print(f"wrote {args.out}/archive/ ({summary}); truth in {args.out}/truth.json")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from dora4_pipeline.demo import run_demo

    print(run_demo(Settings.from_env()))
    return 0


def _pool(args: argparse.Namespace) -> int:
    import dagster as dg

    from dora4_pipeline.pool import describe_pool, free_by_hand

    if not os.environ.get("DAGSTER_HOME"):
        raise ConfigError("DAGSTER_HOME is not set: the pool lives in a persistent instance")
    with dg.DagsterInstance.get() as instance:
        print(free_by_hand(instance, args.free) if args.free else describe_pool(instance))
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from dora4_pipeline.publish.dashboard import DEFAULT_DASHBOARD, publish_dashboard
    from dora4_pipeline.resources.datadog import DatadogResource

    print(publish_dashboard(DatadogResource.from_env(), args.file or DEFAULT_DASHBOARD))
    return 0


if __name__ == "__main__":
    sys.exit(main())
