"""The HubSpot scopes hspc needs, each with what it is for (pure; README lists them too).

`REQUIRED_SCOPES` are the CRM scopes every credential needs (a private app token, a service key, a
client-credentials token). A developer-platform app (deploy/hubspot-app/) also asks for `APP_ONLY_SCOPES`:
its manifest's `requiredScopes` are exactly `APP_SCOPES`, and its client-credentials tokens are asked
for with them (hspc_pipelines_tests/deploy/test_hubspot_app.py keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

REQUIRED_SCOPES: Final[dict[str, str]] = {
    "crm.objects.deals.read": "search, list and read deals",
    "crm.objects.deals.write": "write back links, statuses and AWS's review to deals",
    "crm.objects.companies.read": "read the deal's company (the opportunity's customer)",
    "crm.objects.companies.write": "create the company of a deal that came from an AWS invitation",
    "crm.objects.contacts.read": "read the deal's contacts",
    "crm.objects.contacts.write": "create contacts, notes and tasks (HubSpot ties engagements to it)",
    "crm.schemas.deals.read": "read property definitions and deal pipelines (`hspc doctor`)",
    "crm.schemas.deals.write": "create and migrate the aws_* properties (`hspc bootstrap`)",
}

# Only a developer-platform app has these (HubSpot's app samples list `oauth` in every app's
# requiredScopes; the webhooks journal's scopes are granted to client-credentials tokens only).
APP_ONLY_SCOPES: Final[dict[str, str]] = {
    "oauth": "basic OAuth access (HubSpot lists it in every developer-platform app's scopes)",
    "developer.webhooks_journal.read": "read change events from the webhooks journal (events sensor)",
    "developer.webhooks_journal.subscriptions.read": "list the journal's subscriptions",
    "developer.webhooks_journal.subscriptions.write": "create the journal's deal subscriptions (API only)",
}

APP_SCOPES: Final[tuple[str, ...]] = (*APP_ONLY_SCOPES, *REQUIRED_SCOPES)
# What reading the journal and keeping its deal subscription take (`hspc doctor`, `hspc bootstrap --journal`).
JOURNAL_SCOPES: Final[tuple[str, ...]] = tuple(
    s for s in APP_ONLY_SCOPES if s.startswith("developer.webhooks_journal.")
)


def missing_scopes(granted: Iterable[str], required: Iterable[str] = REQUIRED_SCOPES) -> list[str]:
    have = set(granted)
    return [s for s in required if s not in have]
