"""`hspc run`, `hspc dev`, `hspc bootstrap` and `hspc solutions`: the product's everyday commands.

Runs go through Dagster with the instance in DAGSTER_HOME, so every run a command starts is visible
in the UI afterwards. With no HUBSPOT_ACCESS_TOKEN, `run` and `dev` start the local emulators with
seeded data first, so a fresh machine shows the product working before it gets real credentials.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEMO_DEALS = 60
# `hspc run` without --since reconciles this many days back. Dagster still stores one materialization
# per asset and day of a range run (batched, see defs/event_batching.py), so a run over the whole
# partition range (years) costs more bookkeeping than sync; the nightly sweep covers the whole range.
DEFAULT_RUN_DAYS = int(os.environ.get("HSPC_RUN_DAYS", "120"))


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="one reconcile through Dagster, then a summary")
    run.add_argument("--dry-run", action="store_true", help="plan only: materialize up to sync_plan")
    run.add_argument(
        "--since",
        metavar="DATE",
        help="reconcile the days from DATE (YYYY-MM-DD) to today (default: the whole range)",
    )
    run.add_argument("--deals", type=int, default=DEMO_DEALS, help="deals to seed when emulating")
    run.set_defaults(handler=cmd_run)

    dev = subparsers.add_parser("dev", help="the Dagster UI and daemon (with emulators when no token)")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--deals", type=int, default=DEMO_DEALS)
    dev.set_defaults(handler=cmd_dev)

    boot = subparsers.add_parser("bootstrap", help="create the HubSpot custom properties hspc writes")
    boot.set_defaults(handler=cmd_bootstrap)

    sol = subparsers.add_parser("solutions", help="the Partner Central solutions catalog")
    sol_sub = sol.add_subparsers(dest="solutions_command", metavar="ACTION", required=True)
    search = sol_sub.add_parser("search", help="solutions ranked by relevance to a query")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10)
    search.set_defaults(handler=cmd_solutions_search)


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = Path(__file__).resolve().parents[2] / "dagster.yaml"
    if not config.exists() and template.exists():
        shutil.copyfile(template, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextlib.contextmanager
def product_environment(deals: int) -> Iterator[bool]:
    """Yield True when the local emulators were started because no HubSpot token is configured."""
    if os.environ.get("HUBSPOT_ACCESS_TOKEN") or os.environ.get("HSPC_HUBSPOT_TOKEN_SSM_PARAMETER"):
        yield False
        return
    from hspc_pipelines.extras import emulator_stack

    # Only the demo needs the emulators (the emulators extra); with a token nothing imports them.
    EmulatorStack = emulator_stack("Running without HUBSPOT_ACCESS_TOKEN (the demo on local emulators)")
    print(f"HUBSPOT_ACCESS_TOKEN is not set: starting the local emulators with {deals} seeded deals.")
    with EmulatorStack(deals=deals, seed=0) as stack:
        saved = {k: os.environ.get(k) for k in stack.env}
        os.environ.update(stack.env)
        try:
            yield True
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def cmd_run(args: argparse.Namespace) -> int:
    home = dagster_home()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with product_environment(args.deals):
        from hspc_pipelines.defs.partitions import daily_partitions
        from hspc_pipelines.defs.runner import run_reconcile, summarize

        first_day = daily_partitions.start.date()
        since = (
            args.since
            or max(first_day, dt.date.fromisoformat(today) - dt.timedelta(days=DEFAULT_RUN_DAYS)).isoformat()
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


def cmd_dev(args: argparse.Namespace) -> int:
    dagster_home()
    root = Path(__file__).resolve().parents[2]
    from hspc_pipelines.defs.event_batching import apply_range_run_env

    apply_range_run_env()  # the webserver and daemon create runs and log their planned events
    with product_environment(args.deals):
        cmd = [
            str(Path(sys.executable).with_name("dagster")),
            "dev",
            "-w",
            str(root / "workspace.yaml"),
            "-p",
            str(args.port),
            "-h",
            "127.0.0.1",
        ]
        return subprocess.call(cmd, cwd=root)


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
    from hspc_pipelines.hubspot.client import HubSpotClient

    created = bootstrap_properties(HubSpotClient.from_env())
    print(f"created {len(created)} properties: {', '.join(created) or 'none (all exist)'}")
    return 0


def cmd_solutions_search(args: argparse.Namespace) -> int:
    from hspc_pipelines.partner_central.client import PartnerCentralClient
    from hspc_pipelines.reconcile.solutions import fetch_solutions, solution_rows
    from hspc_pipelines.sync.solutions import search

    rows = solution_rows(fetch_solutions(PartnerCentralClient.from_env()), today_iso())
    matches = search(rows, args.query)[: args.limit]
    if not matches:
        print(f"no active solution matches '{args.query}'")
        return 1
    for m in matches:
        print(f"{m.score:6.2f}  {m.solution_id}  {m.name}")
    return 0


def today_iso() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()
