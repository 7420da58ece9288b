"""`hspc bootstrap`: create the HubSpot custom properties hspc reads and writes (idempotent).

Runs do the same as their first step (`HubSpotResource.ensure_properties`); this is for operators who
prefer to create them once, ahead of the first run. `--migrate` also brings properties a portal already
holds with another type, field type or fewer options to what hspc expects, where HubSpot allows it.
`--journal` instead upserts the webhooks journal's deal subscription (journal_subscription.py)."""

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
    boot.add_argument(
        "--journal",
        action="store_true",
        help="upsert the webhooks journal's deal subscription (client credentials; docs/webhooks-journal.md)",
    )
    boot.add_argument(
        "--portal-id",
        type=int,
        help="with --journal: the HubSpot account (default: HSPC_JOURNAL_PORTAL_ID, else the token's)",
    )
    boot.add_argument(
        "--dry-run", action="store_true", help="with --migrate or --journal: only show the changes needed"
    )
    boot.set_defaults(handler=cmd_bootstrap)


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from hspc_pipelines.hubspot.bootstrap import bootstrap_properties, migrate_properties
    from hspc_pipelines.hubspot.client import HubSpotClient

    client = HubSpotClient.from_env()
    if args.journal:
        return _journal(client, args.portal_id, args.dry_run)
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


def _journal(client: Any, portal_id: int | None, dry_run: bool) -> int:
    import json
    import sys

    from hspc_pipelines.hubspot.client import JOURNAL_SUBSCRIPTIONS
    from hspc_pipelines.hubspot.errors import HubSpotError
    from hspc_pipelines.hubspot.journal_subscription import ensure_deal_subscription
    from hspc_pipelines.settings import load_settings

    portal = portal_id or load_settings().journal_portal_id
    if portal is None:
        try:
            portal = client.token_info().get("hubId")
        except (HubSpotError, ValueError):
            portal = None
    if portal is None:
        print(
            "hspc bootstrap --journal: which HubSpot account? set HSPC_JOURNAL_PORTAL_ID or pass --portal-id "
            "(the account id HubSpot shows in its URLs, app.hubspot.com/.../<id>/...)",
            file=sys.stderr,
        )
        return 2
    try:
        result = ensure_deal_subscription(client, int(portal), apply=not dry_run)
    except HubSpotError as exc:
        print(f"hspc bootstrap --journal: {exc}", file=sys.stderr)
        if exc.status in (401, 403):
            print(
                "  the journal's subscriptions need HSPC_HUBSPOT_AUTH=client_credentials and the scopes "
                "developer.webhooks_journal.subscriptions.read/.write (docs/hubspot-app.md)",
                file=sys.stderr,
            )
        return 1
    if result.sent is None:
        sub = result.before.subscription or {}
        print(
            f"the journal's deal subscription {sub.get('id')} for portal {portal} already covers hspc: nothing to do"
        )
        return 0
    for problem in result.before.problems():
        print(f"portal {portal}: {problem}")
    if not result.applied:
        print(f"dry run: would POST {JOURNAL_SUBSCRIPTIONS} with")
        print(json.dumps(result.sent, indent=2))
        return 0
    answer = result.answer or {}
    print(
        f"subscribed: deal subscription {answer.get('id')} for portal {portal}, "
        f"{len(result.sent['actions'])} actions, {len(result.sent['properties']) or 'every'} properties"
    )
    return 0
