"""A company update the two-way merge makes (a Partner Central edit of the customer) that a portal's
required-property rule refuses ends the row `invalid`, naming the property and the rule, like a deal
write the rule refuses; another deal's company update in the same batch is written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.emulators.hubspot.app import HubSpotEmulator
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping.vocabulary import RowStatus
from hspc_pipelines.reconcile.outcomes import DealWrite
from hspc_pipelines.reconcile.writeback import write_deals

TOKEN = "pat-rules"
# city is required on a company whose industry is set to this value (an admin's conditional rule)
RULE = {
    "objectType": "companies",
    "propertyName": "city",
    "kind": "conditional",
    "when": {"propertyName": "industry", "values": ["FINANCIAL_SERVICES"]},
}


@pytest.fixture
def hubspot() -> Iterator[tuple[HubSpotEmulator, HubSpotClient]]:
    emulator = HubSpotEmulator(access_tokens=(TOKEN,))
    with serve_in_thread(emulator.app) as server:
        yield emulator, HubSpotClient(TOKEN, server.url, timeout=(2, 5), max_retries=0)


def _company(hs: HubSpotClient, name: str) -> str:
    return str(hs.create_object("companies", {"name": name})["id"])


def _write(deal_id: str, company_id: str, industry: str) -> DealWrite:
    record = {"object_type": "companies", "id": company_id, "properties": {"industry": industry}}
    return DealWrite(deal_id, f"deal:{deal_id}", "2026-12-06", RowStatus.WRITTEN, records=[record])


def test_a_company_update_a_portal_rule_refuses_ends_invalid_and_the_other_is_written(hubspot) -> None:
    emulator, hs = hubspot
    refused_company, fine_company = _company(hs, "Refused Ltd"), _company(hs, "Fine Ltd")
    deals = [str(hs.create_object("deals", {"dealname": n})["id"]) for n in ("a", "b")]
    emulator.configure(validation_rules=[RULE])

    outcomes = write_deals(
        hs,
        [_write(deals[0], refused_company, "FINANCIAL_SERVICES"), _write(deals[1], fine_company, "RETAIL")],
    )

    by_deal = {w.deal_id: (status, reason) for w, status, _notes, reason in outcomes}
    status, reason = by_deal[deals[0]]
    assert status == RowStatus.INVALID
    assert reason is not None and "city" in reason and "MISSING_CONDITIONAL_REQUIRED_PROPERTY" in reason
    assert by_deal[deals[1]] == (RowStatus.WRITTEN, None)
    assert hs.get_object("companies", fine_company, ["industry"])["properties"]["industry"] == "RETAIL"
    assert hs.get_object("companies", refused_company, ["industry"])["properties"].get("industry") in (
        None,
        "",
    )
