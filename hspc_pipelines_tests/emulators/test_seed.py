"""The seed generator: deterministic, realistic, with the junk the product must cope with."""

from __future__ import annotations

import re
from collections import Counter

from hspc_pipelines.emulators.hubspot import HubSpotEmulator
from hspc_pipelines.emulators.hubspot.properties import company_industries
from hspc_pipelines.emulators.seed import CUSTOM_PIPELINE, UUID_PIPELINE, generate_seed


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert generate_seed(200, seed=5) == generate_seed(200, seed=5)
    assert generate_seed(200, seed=5).deals != generate_seed(200, seed=6).deals
    assert generate_seed(50, seed=5).deals == generate_seed(50, seed=5).deals


def test_deals_are_realistic_and_varied() -> None:
    data = generate_seed(1000, seed=1, junk_ratio=0.05, cosell_ratio=0.7)
    deals = {d["id"]: d["properties"] for d in data.deals}
    assert len(deals) == 1000
    cosell = set(data.cosell_deal_ids)
    assert 600 < len(cosell) < 800
    assert all("#aws" in deals[i]["dealname"].lower() for i in cosell)
    assert not any("#aws" in p["dealname"].lower() for i, p in deals.items() if i not in cosell)
    pipelines = Counter(p["pipeline"] for p in deals.values())
    assert set(pipelines) == {"default", CUSTOM_PIPELINE["id"], UUID_PIPELINE["id"]}
    custom_stages = {p["dealstage"] for p in deals.values() if p["pipeline"] == CUSTOM_PIPELINE["id"]}
    assert custom_stages and all(s.isdigit() for s in custom_stages)
    clean = [p for i, p in deals.items() if i not in data.junk_deal_ids]
    assert all(p["description"] and len(p["description"]) >= 50 for p in clean)
    assert all(p["amount"] and float(p["amount"]) > 0 and p["closedate"] for p in clean)


def test_companies_contacts_and_junk() -> None:
    data = generate_seed(1000, seed=2)
    known = {value for value, _ in company_industries()}
    industries = [c["properties"]["industry"] for c in data.companies]
    assert len({i for i in industries if i in known}) > 50
    countries = Counter(c["properties"]["country"] for c in data.companies)
    assert {"USA", "UK", "US", "United States", "DE"} & set(countries)
    assert len(countries) > 20
    shapes = {re.sub(r"\d", "9", c["properties"]["phone"]) for c in data.contacts}
    assert {"+9 999-999-9999", "(999) 999-9999", "999.999.9999"} <= shapes and len(shapes) > 10
    per_company = Counter(a["to"]["id"] for a in data.associations if a["from"]["type"] == "contacts")
    assert set(per_company.values()) <= {1, 2, 3}
    assert 20 < len(data.junk_deal_ids) < 100
    kinds = Counter(k for ks in data.junk_deal_ids.values() for k in ks)
    assert {"bad_country", "unknown_industry", "short_description", "no_company"} <= set(kinds)
    assert any(i not in known for i in industries if i)


def test_seed_loads_into_the_emulator_with_associations() -> None:
    data = generate_seed(100, seed=3)
    emulator = HubSpotEmulator()
    result = emulator.load_seed(data)
    assert result["counts"] == {
        "companies": len(data.companies),
        "contacts": len(data.contacts),
        "deals": 100,
    }
    first = data.deals[0]
    record = emulator.state.store.get("deals", first["id"])
    assert record is not None and record.props["dealname"] == first["properties"]["dealname"]
    assert record.props["hs_lastmodifieddate"] == first["properties"]["hs_lastmodifieddate"]
    linked = [d["id"] for d in data.deals if d["id"] not in data.junk_deal_ids]
    assert all(emulator.state.assoc.get("deals", i, "companies") for i in linked)
    assert all(emulator.state.assoc.get("deals", i, "contacts") for i in linked)
    assert {p["id"] for p in data.pipelines} <= set(emulator.state.pipelines.deals)
