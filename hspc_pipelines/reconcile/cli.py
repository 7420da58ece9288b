"""`hspc run`: one reconcile through Dagster, then a summary.

Runs go through Dagster with the instance in DAGSTER_HOME, so every run a command starts is visible
in the UI afterwards. With no HUBSPOT_ACCESS_TOKEN it reconciles against the local emulators.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from hspc_pipelines.dev import DEMO_DEALS, product_environment
from hspc_pipelines.settings import dagster_home, load_settings


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="one reconcile through Dagster, then a summary")
    run.add_argument("--dry-run", action="store_true", help="plan only: materialize up to sync_plan")
    run.add_argument(
        "--since",
        metavar="DATE",
        help="reconcile the days from DATE (YYYY-MM-DD) to today (default: HSPC_RUN_DAYS back)",
    )
    run.add_argument("--deals", type=int, default=DEMO_DEALS, help="deals to seed when emulating")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    home = dagster_home()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with product_environment(args.deals):
        from hspc_pipelines.reconcile.runner import run_reconcile, summarize

        # Without --since: HSPC_RUN_DAYS back. Dagster still stores one materialization per asset and
        # day of a range run (batched, see defs/event_batching.py), so a run over the whole partition
        # range (years) costs more bookkeeping than sync; the nightly sweep covers the whole range.
        settings = load_settings()
        first_day = settings.partitions_start_date
        since = (
            args.since
            or max(first_day, dt.date.fromisoformat(today) - dt.timedelta(days=settings.run_days)).isoformat()
        )
        try:
            dt.date.fromisoformat(since)
        except ValueError:
            print(f"--since: {since!r} is not a date; expected YYYY-MM-DD", file=sys.stderr)
            return 2
        result = run_reconcile(dry_run=args.dry_run, since=since, today=today)
        print(summarize(result))
        print(
            f"\nRun {result.run_id} is stored in {home}. See it in the UI: `make dev`, then "
            f"http://127.0.0.1:3000/runs/{result.run_id}"
        )
        return 0 if result.success and not result.failed_rows else 1
