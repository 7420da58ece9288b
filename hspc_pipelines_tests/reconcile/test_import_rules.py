"""Which Partner Central opportunities become deals, and the request that links one back (issue 15)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.mapping.config import MappingConfigError, config_from_dict
from hspc_pipelines.partner_central.records import to_jsonable
from hspc_pipelines.reconcile.import_rules import import_candidates, link_request
from hspc_pipelines_tests.support.deals import current_opportunity

CONFIG = MappingConfig.default()


def _opp(opp_id: str, **overrides: Any) -> dict[str, Any]:
    record = to_jsonable(current_opportunity())
    record.update(Id=opp_id, PartnerOpportunityIdentifier=None, CreatedDate="2026-03-02T10:00:00+00:00")
    record.update(overrides)
    return record


def test_only_unlinked_partner_opportunities_created_since_the_start_are_imported() -> None:
    records = [
        _opp("O1"),
        _opp("O2", PartnerOpportunityIdentifier="HUBSPOT-77"),  # a deal's
        _opp("O3", Origin="AWS Referral"),  # arrives as an invitation
        _opp("O4"),  # accepted from an invitation (the store knows)
        _opp("O5"),  # paired with a deal in the plan
        _opp("O6", CreatedDate="2026-03-01T23:59:59+00:00"),  # before import_since
        _opp("O7", PartnerOpportunityIdentifier="CRM-9"),  # another system's identifier: still ours to import
    ]
    got = import_candidates(records, {"O5"}, {"O4"}, CONFIG, "2026-03-02")
    assert [r["Id"] for r in got] == ["O1", "O7"]
    off = dataclasses.replace(CONFIG, import_opportunities=False)
    assert import_candidates(records, set(), set(), off, "2000-01-01") == []


def test_the_link_back_is_the_full_record_with_the_deal_identifier_and_waits_during_review() -> None:
    record = _opp("O1234567")
    request = link_request(record, "42", CONFIG, "AWS")
    assert request is not None
    assert request["PartnerOpportunityIdentifier"] == "HUBSPOT-42"
    assert request["Identifier"] == "O1234567" and request["Catalog"] == "AWS"
    assert request["Project"]["Title"] == record["Project"]["Title"], "nothing else changes"
    locked = _opp("O1", LifeCycle={**record["LifeCycle"], "ReviewStatus": "In review"})
    assert link_request(locked, "42", CONFIG, "AWS") is None


def test_mapping_file_keys_for_import_and_conflicts() -> None:
    config = config_from_dict(
        {"import_opportunities": False, "import_since": "2026-02-01", "conflict_policy": "newest"}
    )
    assert (config.import_opportunities, config.import_since, config.conflict_policy) == (
        False,
        "2026-02-01",
        "newest",
    )
    with pytest.raises(MappingConfigError, match="import_since: got '01/02/2026', allowed: an ISO date"):
        config_from_dict({"import_since": "01/02/2026"})
    with pytest.raises(MappingConfigError, match="conflict_policy"):
        config_from_dict({"conflict_policy": "loudest"})
