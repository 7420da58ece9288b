"""`hspc bootstrap`: create the HubSpot custom properties hspc reads and writes (idempotent).

Runs do the same as their first step (`HubSpotResource.ensure_properties`); this is for operators who
prefer to create them once, ahead of the first run."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    boot = subparsers.add_parser("bootstrap", help="create the HubSpot custom properties hspc writes")
    boot.set_defaults(handler=cmd_bootstrap)


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
    from hspc_pipelines.hubspot.client import HubSpotClient

    created = bootstrap_properties(HubSpotClient.from_env())
    print(f"created {len(created)} properties: {', '.join(created) or 'none (all exist)'}")
    return 0
