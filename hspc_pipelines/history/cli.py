"""`hspc history DEAL_ID [--limit N]` and `hspc history --failed [--since DATE]`: the sync log read
from the state database, in the terminal."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hspc_pipelines.history.format import failures_text, timeline_text
from hspc_pipelines.history.log import SyncHistory
from hspc_pipelines.settings import load_settings

DEFAULT_FAILED_DAYS = 7  # `--failed` without --since: the last week


def state_url() -> str:
    """The state database the product writes to: HSPC_STATE_URL, else SQLite under DAGSTER_HOME (the
    same default the Dagster resources use)."""
    settings = load_settings()
    return settings.state_url_or_default(str(settings.home()))


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
    except ValueError:
        return _bad_date(value)


def _bad_date(value: str) -> dt.date:
    raise argparse.ArgumentTypeError(f"{value!r} is not a date; expected YYYY-MM-DD, e.g. 2026-01-31")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be a whole number of rows, at least 1")
    return number


def register(subparsers: Any) -> None:
    history = subparsers.add_parser(
        "history",
        help="a deal's sync timeline, or the failed rows",
        description="Read the sync history: `hspc history DEAL_ID` (newest first) or `hspc history --failed`.",
    )
    history.add_argument("deal_id", nargs="?", metavar="DEAL_ID", help="the HubSpot deal id")
    history.add_argument("--limit", type=_positive, default=50, metavar="N", help="rows to show (default 50)")
    history.add_argument("--failed", action="store_true", help="list failed rows with their reasons")
    history.add_argument(
        "--since",
        type=_date,
        metavar="DATE",
        help=f"with --failed: rows from DATE (YYYY-MM-DD, UTC) on (default: the last {DEFAULT_FAILED_DAYS} days)",
    )
    history.set_defaults(handler=cmd_history, history_parser=history)


def cmd_history(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.history_parser
    if args.failed == bool(args.deal_id):
        parser.error("give either DEAL_ID or --failed")
    if args.since is not None and not args.failed:
        parser.error("--since only applies with --failed")
    url = state_url()
    database = sa.make_url(url).database
    if url.startswith("sqlite") and database and not Path(database).exists():
        print(f"No sync history yet: {database} does not exist.")
        return 0
    history = SyncHistory.from_url(url)
    try:
        if args.failed:
            since = (
                dt.datetime.combine(args.since, dt.time(), dt.UTC)
                if args.since
                else dt.datetime.now(dt.UTC) - dt.timedelta(days=DEFAULT_FAILED_DAYS)
            )
            print(failures_text(history.failures(since, limit=args.limit)))
        else:
            print(timeline_text(args.deal_id, history.timeline(args.deal_id, limit=args.limit)))
    finally:
        history.dispose()
    return 0
