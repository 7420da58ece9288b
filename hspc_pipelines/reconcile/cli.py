"""`hspc run`: one reconcile through Dagster, concise progress while it works, then a summary.

Runs go through Dagster with the instance in DAGSTER_HOME, so every run a command starts is visible
in the UI afterwards (with its full event log; the terminal shows it only with --verbose). With no
HUBSPOT_ACCESS_TOKEN it reconciles against the local emulators. Errors a person can act on (a bad
setting, a bad mapping file, a refused token, an unreachable service) end in one line and exit 1 or 2;
--verbose adds Dagster's events and tracebacks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import warnings
from typing import Any

from hspc_pipelines.dev import DEMO_DEALS, product_environment
from hspc_pipelines.extras import MissingExtraError
from hspc_pipelines.logs import configure_logging
from hspc_pipelines.mapping.config import MappingConfigError, load_mapping_config
from hspc_pipelines.settings import SettingsError, dagster_home, load_settings


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="one reconcile through Dagster: progress, then a summary",
        description="Reconcile HubSpot deals and Partner Central opportunities once, in this process, "
        "with the Dagster instance in DAGSTER_HOME (the run shows in the UI). Without "
        "HUBSPOT_ACCESS_TOKEN it runs against local emulators with seeded deals.",
    )
    run.add_argument("--dry-run", action="store_true", help="plan only: materialize up to sync_plan")
    run.add_argument(
        "--since",
        metavar="DATE",
        help="reconcile the days from DATE (YYYY-MM-DD) to today "
        "(default: HSPC_RUN_DAYS back, 120 days unless set; never before HSPC_PARTITIONS_START_DATE)",
    )
    run.add_argument("--deals", type=int, default=DEMO_DEALS, help="deals to seed when emulating")
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print Dagster's full event log, hspc's INFO logs and tracebacks",
    )
    run.set_defaults(handler=cmd_run)


def fail(message: str, code: int = 2) -> int:
    """One line on stderr, and the exit code."""
    print(f"hspc run: {message}", file=sys.stderr)
    return code


def cmd_run(args: argparse.Namespace) -> int:
    # The command sets the root logger for its own output; a caller in the same process (a test, a
    # notebook) gets its logging back afterwards.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        return _cmd_run(args)
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def _cmd_run(args: argparse.Namespace) -> int:
    verbose = bool(getattr(args, "verbose", False))
    try:
        settings = load_settings()
        # Without --verbose the progress lines say what happens; only errors of hspc's own logs show.
        configure_logging(settings if verbose else settings.model_copy(update={"log_level": "ERROR"}))
        # Checked before anything starts: a bad file is the person's to fix, not a run failure.
        load_mapping_config(settings.mapping_config)
        if args.since:
            dt.date.fromisoformat(args.since)
    except SettingsError as exc:
        return fail(str(exc))
    except MappingConfigError as exc:
        return fail(f"HSPC_MAPPING_CONFIG={settings.mapping_config!r}: {exc}")
    except ValueError:
        return fail(f"--since: {args.since!r} is not a date; expected YYYY-MM-DD")
    try:
        return _run(args, verbose)
    except MissingExtraError as exc:  # the demo needs the [emulators] extra: say how to install it
        return fail(str(exc))
    except Exception as exc:  # an error outside the run (emulators, instance): one line unless --verbose
        if verbose:
            raise
        logging.getLogger(__name__).debug("hspc run failed", exc_info=True)
        return fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", 1)


def _run(args: argparse.Namespace, verbose: bool) -> int:
    if not verbose:
        # Dagster's notes about its own preview/beta APIs are for the developers, not the person.
        import dagster as dg

        warnings.filterwarnings("ignore", category=dg.BetaWarning)
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    home = dagster_home()
    today = dt.datetime.now(dt.UTC).date()
    with product_environment(args.deals):
        import dagster as dg

        from hspc_pipelines.definitions import build_defs
        from hspc_pipelines.reconcile.progress import QUIET_LOGGERS, Progress, run_with_progress, tracebacks
        from hspc_pipelines.reconcile.runner import job_steps, run_reconcile, summarize

        # Without --since: HSPC_RUN_DAYS back. Dagster still stores one materialization per asset and
        # day of a range run (batched, see defs/event_batching.py), so a run over the whole partition
        # range (years) costs more bookkeeping than sync; the nightly sweep covers the whole range.
        settings = load_settings()  # again: the emulators' addresses are in the environment now
        since = (
            args.since
            or max(settings.partitions_start_date, today - dt.timedelta(days=settings.run_days)).isoformat()
        )
        instance = dg.DagsterInstance.get()
        defs = build_defs()
        progress = Progress(
            steps=job_steps(defs, args.dry_run, instance),
            writes_per_second=settings.pc_writes_per_second,
            writes_per_day=settings.pc_writes_per_day,
        )
        print(f"Reconciling {since} to {today}{' (dry run)' if args.dry_run else ''}", flush=True)
        result = run_with_progress(
            instance,
            lambda run_id: run_reconcile(
                dry_run=args.dry_run,
                since=since,
                today=today.isoformat(),
                instance=instance,
                defs=defs,
                run_id=run_id,
                run_config=None if verbose else QUIET_LOGGERS,
            ),
            progress,
        )
        print()
        print(summarize(result))
        for line in progress.summary_lines():
            print(line)
        print(
            f"\nRun {result.run_id} is stored in {home}. See it in the UI: `make dev`, then "
            f"http://127.0.0.1:3000/runs/{result.run_id}"
        )
        if verbose and progress.errors:
            print(tracebacks(progress), file=sys.stderr)
        if progress.failures:
            print(f"hspc run: {progress.failures[0]}", file=sys.stderr)
        return 0 if result.success and not result.failed_rows else 1
