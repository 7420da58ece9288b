"""The HubSpot private-app scopes hspc needs, each with what it is for (pure; README lists them too)."""

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


def missing_scopes(granted: Iterable[str]) -> list[str]:
    have = set(granted)
    return [s for s in REQUIRED_SCOPES if s not in have]
