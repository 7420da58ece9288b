"""`hspc solutions search QUERY`: the Partner Central solutions catalog, ranked by relevance."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any


def register(subparsers: Any) -> None:
    sol = subparsers.add_parser("solutions", help="the Partner Central solutions catalog")
    sol_sub = sol.add_subparsers(dest="solutions_command", metavar="ACTION", required=True)
    search = sol_sub.add_parser("search", help="solutions ranked by relevance to a query")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10)
    search.set_defaults(handler=cmd_solutions_search)


def cmd_solutions_search(args: argparse.Namespace) -> int:
    from hspc_pipelines.partner_central.client import PartnerCentralClient
    from hspc_pipelines.solutions.catalog import fetch_solutions, solution_rows
    from hspc_pipelines.solutions.matching import search

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
