"""`hspc bootstrap`: create the HubSpot custom properties hspc reads and writes (idempotent).

Runs do the same as their first step (`HubSpotResource.ensure_properties`); this is for operators who
prefer to create them once, ahead of the first run. `--migrate` also brings properties a portal already
holds with another type, field type or fewer options to what hspc expects, where HubSpot allows it."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    boot = subparsers.add_parser("bootstrap", help="create the HubSpot custom properties hspc writes")
    boot.add_argument(
        "--migrate",
        action="store_true",
        help="also change existing properties whose type, field type or options differ (never deletes data)",
    )
    boot.add_argument("--dry-run", action="store_true", help="with --migrate: only show the changes needed")
    boot.set_defaults(handler=cmd_bootstrap)


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from hspc_pipelines.hubspot.bootstrap import bootstrap_properties, migrate_properties
    from hspc_pipelines.hubspot.client import HubSpotClient

    client = HubSpotClient.from_env()
    if not args.migrate:
        created = bootstrap_properties(client)
        print(f"created {len(created)} properties: {', '.join(created) or 'none (all exist)'}")
        return 0
    diffs, report = migrate_properties(client, apply=not args.dry_run)
    for line in report.optional:
        print(f"BY HAND {line}")
    if not diffs:
        print("every property hspc uses exists as expected: nothing to migrate")
        return 0
    print(f"{len(diffs)} properties differ from what hspc expects:")
    for diff in diffs:
        print(f"  {diff.key}: {'; '.join(diff.changes())}")
    if args.dry_run:
        print("dry run: nothing changed (run without --dry-run to apply)")
        return 0
    for name in report.created:
        print(f"created {name}")
    for line in report.updated:
        print(f"updated {line}")
    for line in report.by_hand:
        print(f"BY HAND {line}")
    return 0 if report.complete else 1
