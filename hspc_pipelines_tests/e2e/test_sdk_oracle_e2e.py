"""A real reconcile (twice, with an edit between) against the emulators, every HubSpot exchange the
product had validated against HubSpot's SDK models: the bodies the product's code builds, not only the
client's (property values as strings, associations, notes with their keys)."""

from __future__ import annotations

import datetime as dt

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines_tests.support.hubspot_oracle import Exchange, check_exchange


def test_a_reconcile_sends_and_reads_only_what_hubspots_models_allow(product):
    emulator = product.stack.hubspot
    emulator.configure(record_exchanges=True)
    emulator.load_seed(generate_seed(30, seed=5, now_ms=anchor_now()))
    since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=130)).isoformat()
    assert product.reconcile(since=since).success
    linked = [
        d
        for d in product.hubspot("GET", "/crm/v3/objects/deals?limit=100&properties=aws_opportunity_id")[
            "results"
        ]
        if d["properties"].get("aws_opportunity_id")
    ]
    assert linked, "the seed has co-sell deals: the run must have written links"
    product.hubspot(
        "PATCH", f"/crm/v3/objects/deals/{linked[0]['id']}", json={"properties": {"amount": "4321"}}
    )
    assert product.reconcile(since=since).success
    emulator.configure(record_exchanges=False)
    seen: dict[str, int] = {}
    for raw in list(emulator.exchanges):
        if raw["request"] is not None and raw["method"] == "PATCH" and "amount" in str(raw["request"]):
            continue  # the test's own edit, not the product's
        endpoint = check_exchange(Exchange(**raw))
        seen[endpoint.name] = seen.get(endpoint.name, 0) + 1
    # the families a reconcile uses were all met (so the check above saw real traffic)
    assert {"search", "batch read", "batch update", "associations batch read", "properties list"} <= set(
        seen
    ), seen
