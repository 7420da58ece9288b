"""HubSpot's date-based API versions end to end: a reconcile calls nothing numbered but the documented
exceptions, and a portal's required-property rule (enforced from 2026-09) makes an imported
opportunity's row `invalid`, naming the property and the rule, which `hspc doctor` then lists."""

from __future__ import annotations

from typing import Any

import pytest

from hspc_pipelines.cli import main
from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.history import SyncHistory
from hspc_pipelines.history.cli import state_url
from hspc_pipelines_tests.support.partner_central import create_request
from hspc_pipelines_tests.support.product import Product

# Numbered paths the client may still call at a date-based version (docs/hubspot-api-versions.md).
DOCUMENTED_NUMBERED = frozenset({"POST /oauth/v2/private-apps/get/access-token-info"})
RULE = {"objectType": "deals", "propertyName": "hs_priority", "kind": "on_create"}


def _numbered(calls: dict[str, int]) -> dict[str, int]:
    """Numbered endpoints the client called (by the emulator's stats keys)."""
    return {ep: n for ep, n in calls.items() if "/v3/" in ep or "/v4/" in ep or "/v2/" in ep or "/v1/" in ep}


def test_a_reconcile_calls_only_date_based_paths_but_the_documented_exceptions(product: Product) -> None:
    product.stack.hubspot.load_seed(generate_seed(30, seed=5, now_ms=anchor_now()))
    product.stack.hubspot.reset_stats()
    outcome = product.reconcile()
    assert outcome.success
    stats = product.stack.hubspot.stats()
    assert set(_numbered(stats["calls"])) <= DOCUMENTED_NUMBERED, _numbered(stats["calls"])
    assert stats["families"].get("date-based", 0) > 0
    assert stats["families"].get("numbered", 0) == sum(_numbered(stats["calls"]).values())
    assert any(ep.startswith("POST /crm/associations/2026-09/deals/") for ep in stats["calls"])
    assert any(ep.startswith("POST /crm/objects/2026-09/deals/search") for ep in stats["calls"])


def _create_in_partner_central(product: Product) -> str:
    request = create_request(title="Initech payroll migration")
    request.pop("PartnerOpportunityIdentifier")  # made in the console: no HubSpot deal yet
    return str(product.pc().create_opportunity(**request)["Id"])


def _deals_carrying(product: Product, opp_id: str) -> list[dict[str, Any]]:
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "aws_opportunity_id", "operator": "EQ", "value": opp_id}]}
        ]
    }
    return list(product.hubspot("POST", "/crm/v3/objects/deals/search", json=body)["results"])


def _doctor_line(capsys: pytest.CaptureFixture[str]) -> str:
    main(["doctor"])
    out = capsys.readouterr().out
    return next(line for line in out.splitlines() if "hubspot validation rules" in line)


def test_an_import_a_portal_rule_refuses_is_invalid_naming_the_property_and_the_rule(
    product: Product, capsys: pytest.CaptureFixture[str]
) -> None:
    opp_id = _create_in_partner_central(product)
    product.stack.hubspot.configure(validation_rules=[RULE])
    product.stack.hubspot.reset_stats()

    refused = product.reconcile()
    assert refused.success
    (row,) = refused.frames["opportunity_imports"].to_dict("records")
    assert row["status"] == "invalid", row
    assert "hs_priority" in row["reason"] and "MISSING_REQUIRED_PROPERTY" in row["reason"]
    assert "Create Record form" in row["reason"]
    assert _deals_carrying(product, opp_id) == []
    calls = product.stack.hubspot.stats()["calls"]
    assert calls["POST /crm/objects/2026-09/deals/batch/create"] == 1, "a rule refusal is not repeated"
    history = SyncHistory.from_url(state_url())
    try:
        logged = [r for r in history.failures(since=history_start()) if r.opportunity_id == opp_id]
    finally:
        history.dispose()
    assert [(r.operation, r.status) for r in logged] == [("import", "invalid")]

    line = _doctor_line(capsys)
    assert line.startswith("FAIL") and "hs_priority" in line and "MISSING_REQUIRED_PROPERTY" in line

    # The admin drops the rule: the next run creates the deal (nothing was marked done meanwhile).
    product.stack.hubspot.configure(validation_rules=[])
    again = product.reconcile()
    assert again.success
    assert list(again.frames["opportunity_imports"]["status"]) == ["created"]
    assert len(_deals_carrying(product, opp_id)) == 1


def test_the_same_rule_does_not_refuse_writes_at_2026_03(product: Product, monkeypatch) -> None:
    """HubSpot enforces the rules from 2026-09 on; an earlier version is a configuration change away."""
    from hspc_pipelines.definitions import build_defs

    monkeypatch.setenv("HSPC_HUBSPOT_API_VERSION", "2026-03")
    product.defs = build_defs(str(product.home))  # the settings are read when definitions load
    opp_id = _create_in_partner_central(product)
    product.stack.hubspot.configure(validation_rules=[RULE])
    product.stack.hubspot.reset_stats()
    outcome = product.reconcile()
    assert outcome.success
    assert list(outcome.frames["opportunity_imports"]["status"]) == ["created"]
    assert len(_deals_carrying(product, opp_id)) == 1
    assert "POST /crm/objects/2026-03/deals/batch/create" in product.stack.hubspot.stats()["calls"]


def history_start() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
