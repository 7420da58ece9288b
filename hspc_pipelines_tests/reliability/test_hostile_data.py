"""Hostile data from the services (issue 9): deals and opportunities with nulls, huge strings, unicode,
wrong types and unknown enums give invalid (or failed) rows with reasons, never a failed run."""

from __future__ import annotations

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines_tests.support.outcomes import SYNC_PROPS, deals, since, step_failures, writes_by_deal

HUGE = "x" * 300_000
HOSTILE_DEALS = {
    "nulls": {"dealname": "Nulls everywhere #AWS"},
    "huge": {"dealname": "#AWS " + HUGE, "description": HUGE, "amount": "9" * 5000},
    "unicode": {
        "dealname": "Ünïcödé 🚀 \u202egnirts\u202c \x00\x1f #AWS",
        "description": "数据迁移到云 " * 10 + "\ud7ff",
        "amount": "١٢٣٤٥",
        "closedate": "２０２６-０１-０１",
    },
    "unknown_enums": {
        "dealname": "Unknown enums #AWS",
        "dealstage": "stage-that-does-not-exist",
        "pipeline": "pipeline-zzz",
        "deal_currency_code": "XYZ",
        "dealtype": "telepathy",
        "amount": "1e400",
        "closedate": "yesterday",
    },
}
# Wrong JSON types go straight into the emulator's store (the seed loader stringifies values).
WRONG_TYPES = {"amount": [1, 2], "closedate": {"when": "soon"}, "description": 12345, "dealstage": True}


def _hostile_opportunity(product, template_id: str) -> None:
    """Corrupt a stored opportunity in place: what AWS could return after a model change."""
    store = product.stack.partner_central.ctx.store("AWS")
    record = store.opportunities[template_id]
    record["LifeCycle"] = {
        **record.get("LifeCycle", {}),
        "Stage": "Stage From The Future",
        "ReviewStatus": "Hmm",
    }
    record["Project"] = {**record.get("Project", {}), "Title": None, "CustomerBusinessProblem": "é" * 100_000}
    record["Customer"] = None


def test_hostile_records_become_invalid_rows_with_reasons_never_a_failed_run(product):
    data = generate_seed(6, seed=2, junk_ratio=0.0, cosell_ratio=1.0, now_ms=anchor_now())
    stamp = data.deals[0]["properties"]["hs_lastmodifieddate"]
    payload = data.to_payload()
    payload["objects"]["deals"] = list(payload["objects"]["deals"]) + [
        {"id": f"9000{i}", "properties": {**props, "hs_lastmodifieddate": stamp}}
        for i, props in enumerate(HOSTILE_DEALS.values())
    ]
    payload["objects"]["deals"].append(
        {"id": "90099", "properties": {"dealname": "Wrong types #AWS", "hs_lastmodifieddate": stamp}}
    )
    product.stack.hubspot.load_seed(payload)
    product.stack.hubspot.state.store.live["deals"]["90099"].props.update(WRONG_TYPES)
    hostile_ids = [f"9000{i}" for i in range(len(HOSTILE_DEALS))] + ["90099"]

    first = product.reconcile(since=since(130))
    assert first.success, step_failures(product, first.run_id)
    writes = writes_by_deal(first)
    now = deals(product, hostile_ids, *SYNC_PROPS)
    for deal_id in hostile_ids:
        assert deal_id in writes, f"hostile deal {deal_id} has no result row"
        status = writes[deal_id]["final_status"]
        assert status == "invalid", (deal_id, status)
        error = now[deal_id]["aws_sync_error"]
        assert now[deal_id]["aws_sync_status"] == "invalid" and error and ":" in error, (
            deal_id,
            now[deal_id],
        )
        assert len(error) <= 65_536, "the reason fits in a HubSpot property"
        assert not now[deal_id]["aws_opportunity_id"]
    print(
        "hostile deals:",
        {d: (writes[d]["final_status"], str(now[d]["aws_sync_error"])[:160]) for d in hostile_ids},
    )
    good = [d["id"] for d in data.deals]
    assert all(writes[d]["final_status"] == "created" for d in good), "hostile rows never stop the others"

    # The other service: a linked opportunity whose record comes back with nulls, unknown enums and huge text.
    target = good[0]
    opp_id = product.deal(target, "aws_opportunity_id")["aws_opportunity_id"]
    _hostile_opportunity(product, opp_id)
    product.hubspot("PATCH", f"/crm/v3/objects/deals/{target}", json={"properties": {"amount": "4242"}})
    second = product.reconcile(since=since(130))
    assert second.success, step_failures(product, second.run_id)
    row = writes_by_deal(second)[target]
    print(
        "hostile opportunity:",
        row["final_status"],
        str(product.deal(target, *SYNC_PROPS)["aws_sync_error"])[:300],
    )
    assert row["final_status"] in ("invalid", "failed", "updated", "blocked"), row
    if row["final_status"] == "updated":
        # Healed: HubSpot owns customer, title and stage, and the full-record update restored them.
        full = product.pc().get_opportunity(Catalog="AWS", Identifier=opp_id)
        assert full["Customer"]["Account"]["CompanyName"] and full["Project"]["Title"], full
        assert full["LifeCycle"]["Stage"] != "Stage From The Future"
    else:
        deal = product.deal(target, *SYNC_PROPS)
        assert deal["aws_sync_error"], deal
