"""Two-way sync against the emulators (issue 15): an edit in Partner Central only reaches the deal, an
edit in HubSpot only reaches the opportunity, edits on both sides are a conflict the policy settles
(one note, status `conflict` in the history), an opportunity created in Partner Central becomes one
deal linked both ways; each is followed by a run that writes nothing."""

from __future__ import annotations

import copy
import datetime as dt
import time
from typing import Any

import dagster as dg
import requests

from hspc_pipelines.history import SyncHistory
from hspc_pipelines.history.cli import state_url
from hspc_pipelines.mapping.model import project_input
from hspc_pipelines_tests.support.partner_central import create_request
from hspc_pipelines_tests.support.product import DEAL_ID, Product, seed_deal

WRITES = ("UpdateOpportunity", "CreateOpportunity")
HS_WRITES = ("batch/update", "batch/create", "PATCH ", "PUT ", "DELETE ")


def _linked(product: Product) -> str:
    seed_deal(product)
    first = product.reconcile()
    assert first.success
    opp_id = str(product.deal(DEAL_ID, "aws_opportunity_id")["aws_opportunity_id"])
    assert opp_id.startswith("O")
    return opp_id


def _edit_in_partner_central(product: Product, opp_id: str, **members: dict[str, Any]) -> None:
    """What a partner's console edit is: UpdateOpportunity with the full record, some members changed."""
    pc = product.pc()
    record = pc.get_opportunity(Catalog="AWS", Identifier=opp_id)
    request = project_input(record, "UpdateOpportunity")
    for section, values in members.items():
        request[section] = {**request.get(section, {}), **values}
    request.update(Catalog="AWS", Identifier=opp_id, LastModifiedDate=record["LastModifiedDate"])
    pc.update_opportunity(**request)


def _edit_in_hubspot(product: Product, **properties: str) -> None:
    product.hubspot("PATCH", f"/crm/v3/objects/deals/{DEAL_ID}", json={"properties": properties})


def _opportunity(product: Product, opp_id: str) -> dict[str, Any]:
    return dict(product.pc().get_opportunity(Catalog="AWS", Identifier=opp_id))


def _assert_second_run_writes_nothing(product: Product) -> None:
    pc_before, hs_before = product.pc_calls(), product.hubspot_calls()
    again = product.reconcile()
    assert again.success
    ops = set(again.frames["sync_plan"]["operation"])
    assert ops <= {"none"}, ops
    pc_after, hs_after = product.pc_calls(), product.hubspot_calls()
    for op in WRITES:
        assert pc_after.get(op, 0) == pc_before.get(op, 0), f"{op} on a converged pair"
    hs_writes = {k: v - hs_before.get(k, 0) for k, v in hs_after.items() if any(w in k for w in HS_WRITES)}
    assert not any(hs_writes.values()), hs_writes


def _history(deal_id: str) -> list[tuple[str, str | None]]:
    history = SyncHistory.from_url(state_url())
    try:
        return [(r.status, r.message) for r in history.timeline(deal_id, limit=100)]
    finally:
        history.dispose()


def test_an_edit_in_partner_central_only_reaches_the_deal(product: Product) -> None:
    opp_id = _linked(product)
    _assert_second_run_writes_nothing(product)  # the pair is settled now: its fingerprint is kept
    _edit_in_partner_central(
        product, opp_id, LifeCycle={"Stage": "Technical Validation", "TargetCloseDate": "2027-06-30"}
    )
    outcome = product.reconcile()
    assert outcome.success
    deal = product.deal(DEAL_ID, "dealstage", "closedate", "aws_stage")
    assert deal["dealstage"] == "presentationscheduled" and deal["aws_stage"] == "Technical Validation"
    assert str(deal["closedate"]).startswith("2027-06-30")
    opp = _opportunity(product, opp_id)
    assert opp["LifeCycle"]["Stage"] == "Technical Validation", "the edit was not put back"
    assert str(opp["LifeCycle"]["TargetCloseDate"]) == "2027-06-30"
    _assert_second_run_writes_nothing(product)


def test_an_edit_in_hubspot_only_reaches_the_opportunity(product: Product) -> None:
    opp_id = _linked(product)
    _edit_in_hubspot(product, amount="31000", description="Acme wants its analytics on AWS before the audit.")
    assert product.reconcile().success
    opp = _opportunity(product, opp_id)
    assert opp["Project"]["ExpectedCustomerSpend"][0]["Amount"] == "31000"
    assert opp["Project"]["CustomerBusinessProblem"].startswith("Acme wants its analytics")
    _assert_second_run_writes_nothing(product)


def test_edits_on_both_sides_are_a_conflict_the_owner_wins_noted_once(product: Product) -> None:
    opp_id = _linked(product)
    _edit_in_hubspot(product, dealname="Acme lakehouse #AWS")
    _edit_in_partner_central(product, opp_id, Project={"Title": "Acme warehouse (AWS edit)"})
    outcome = product.reconcile()
    assert outcome.success
    assert _opportunity(product, opp_id)["Project"]["Title"] == "Acme lakehouse", "HubSpot owns the title"
    assert product.deal(DEAL_ID, "dealname")["dealname"] == "Acme lakehouse #AWS"
    notes = [
        n
        for n in product.notes_on(DEAL_ID)
        if str(n["properties"].get("hspc_note_key")).startswith("conflict:")
    ]
    assert len(notes) == 1 and "Acme warehouse (AWS edit)" in notes[0]["properties"]["hs_note_body"]
    writes = outcome.frames["hubspot_deal_writes"]
    assert list(writes[writes["deal_id"] == DEAL_ID]["final_status"]) == ["conflict"]
    (message,) = [m for status, m in _history(DEAL_ID) if status == "conflict"]
    assert "lost Acme warehouse (AWS edit)" in str(message), "the history keeps the losing value"
    _assert_second_run_writes_nothing(product)
    assert (
        len(
            [
                n
                for n in product.notes_on(DEAL_ID)
                if str(n["properties"].get("hspc_note_key")).startswith("conflict:")
            ]
        )
        == 1
    )


def test_partner_central_wins_conflicts_when_the_policy_says_so(
    product: Product, tmp_path, monkeypatch
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("conflict_policy: partner_central\n", encoding="utf-8")
    monkeypatch.setenv("HSPC_MAPPING_CONFIG", str(mapping))
    from hspc_pipelines.definitions import build_defs

    product.defs = build_defs(str(product.home))  # the settings are read when definitions load
    opp_id = _linked(product)
    _edit_in_hubspot(product, dealstage="contractsent")
    _edit_in_partner_central(product, opp_id, LifeCycle={"Stage": "Business Validation"})
    assert product.reconcile().success
    assert _opportunity(product, opp_id)["LifeCycle"]["Stage"] == "Business Validation"
    assert product.deal(DEAL_ID, "dealstage")["dealstage"] == "decisionmakerboughtin"
    _assert_second_run_writes_nothing(product)


# -- opportunities created in Partner Central --------------------------------------------------------


def _create_in_partner_central(product: Product, title: str = "Globex fleet telemetry") -> str:
    """An opportunity a partner creates in the console: no HubSpot identifier."""
    request = create_request(title=title)
    request.pop("PartnerOpportunityIdentifier")
    return str(product.pc().create_opportunity(**request)["Id"])


def _deals_carrying(product: Product, opp_id: str) -> list[dict[str, Any]]:
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "aws_opportunity_id", "operator": "EQ", "value": opp_id}]}
        ],
        "properties": ["dealname", "aws_opportunity_id", "amount", "dealstage"],
    }
    return list(product.hubspot("POST", "/crm/v3/objects/deals/search", json=body)["results"])


def _associated(product: Product, deal_id: str, to: str) -> list[str]:
    links = product.hubspot(
        "POST", f"/crm/v4/associations/deals/{to}/batch/read", json={"inputs": [{"id": deal_id}]}
    )["results"]
    return [str(t["toObjectId"]) for r in links for t in r["to"]]


def test_an_opportunity_created_in_partner_central_becomes_one_linked_deal(product: Product) -> None:
    opp_id = _create_in_partner_central(product)
    outcome = product.reconcile()
    assert outcome.success
    (deal,) = _deals_carrying(product, opp_id)
    props = deal["properties"]
    assert props["dealname"] == "Globex fleet telemetry #AWS" and props["amount"] == "25000"
    assert props["dealstage"] == "qualifiedtobuy"
    assert _associated(product, deal["id"], "companies") and _associated(product, deal["id"], "contacts")
    opp = _opportunity(product, opp_id)
    assert opp["PartnerOpportunityIdentifier"] == f"HUBSPOT-{deal['id']}", "linked both ways"
    imports = outcome.frames["opportunity_imports"]
    assert list(imports["status"]) == ["created"] and list(imports["pc_linked"]) == [True]
    _assert_second_run_writes_nothing(product)
    assert len(_deals_carrying(product, opp_id)) == 1


def test_a_run_killed_after_the_deal_create_links_that_deal_instead_of_a_second(product: Product) -> None:
    opp_id = _create_in_partner_central(product)
    # What a kill between the deal create and the link back leaves: the deal, the opportunity unlinked.
    made = {"id": "7100"}
    product.stack.hubspot.load_seed(
        {
            "objects": {
                "deals": [
                    {
                        "id": made["id"],
                        "properties": {
                            "dealname": "Globex fleet telemetry #AWS",
                            "aws_opportunity_id": opp_id,
                            # created by a killed run of an earlier day: outside today's window, so
                            # only the import's look-up by aws_opportunity_id can find it
                            "hs_lastmodifieddate": "2026-01-05T00:00:00.000Z",
                            "createdate": "2026-01-05T00:00:00.000Z",
                        },
                    }
                ]
            }
        }
    )
    outcome = product.reconcile()
    assert outcome.success
    assert [d["id"] for d in _deals_carrying(product, opp_id)] == [made["id"]]
    assert list(outcome.frames["opportunity_imports"]["status"]) == ["linked"]
    assert _opportunity(product, opp_id)["PartnerOpportunityIdentifier"] == f"HUBSPOT-{made['id']}"


def test_import_can_be_turned_off_and_starts_at_import_since(product: Product, tmp_path, monkeypatch) -> None:
    from hspc_pipelines.definitions import build_defs

    opp_id = _create_in_partner_central(product)
    for text in ("import_opportunities: false\n", "import_since: 2999-01-01\n"):
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text(text, encoding="utf-8")
        monkeypatch.setenv("HSPC_MAPPING_CONFIG", str(mapping))
        product.defs = build_defs(str(product.home))
        assert product.reconcile().success
        assert _deals_carrying(product, opp_id) == [], text


# -- proof of agreement ------------------------------------------------------------------------------


def _check(product: Product, run_id: str, name: str) -> Any:
    for event in product.instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        assert event.dagster_event is not None
        evaluation: Any = event.dagster_event.event_specific_data
        if evaluation.check_name == name:
            return evaluation
    raise AssertionError(f"check {name} was not evaluated in run {run_id}")


def test_the_sweep_proves_every_linked_pair_agrees_or_says_why(product: Product) -> None:
    opp_id = _linked(product)
    pc_url = product.stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"]
    requests.post(
        f"{pc_url}/_emulator/opportunities/{opp_id}/review", json={"ReviewStatus": "Submitted"}, timeout=10
    ).raise_for_status()
    _edit_in_hubspot(product, amount="99000")  # waits: ACE refuses updates under review
    since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)).isoformat()
    sweep = product.reconcile(since=since)
    assert sweep.success
    check = _check(product, sweep.run_id, "pairs_agree")
    meta = {k: v.value for k, v in check.metadata.items()}
    assert check.passed and meta["pairs_checked"] == 1 and meta["scope"] == "every linked pair of the window"
    assert "| spend | 0 | 1 | 0 | 0 | 0 | 0 | 0 |" in meta["by_field_and_reason"]
    (entry,) = [r for r in _history_run(sweep.run_id) if r.operation == "agreement"]
    assert entry.status == "agreed" and "spend: 1 waiting for review" in str(entry.message)


def _history_run(run_id: str) -> list[Any]:
    history = SyncHistory.from_url(state_url())
    try:
        return list(history.run_rows(run_id))
    finally:
        history.dispose()


def test_a_plan_table_from_before_the_conflicts_column_takes_the_new_frames(product: Product) -> None:
    """Upgrading keeps the stored frames: the Delta table an older release made for `sync_plan`
    (without `conflicts_json`) takes the new frames, the column added, the other days kept."""
    from deltalake import DeltaTable, write_deltalake

    seed_deal(product)
    assert product.reconcile().success
    [path] = [p for p in (product.home / "hspc_assets").rglob("sync_plan") if p.is_dir()]
    old = DeltaTable(str(path)).to_pyarrow_table()
    old = old.drop_columns(["conflicts_json"])
    write_deltalake(str(path), old, mode="overwrite", schema_mode="overwrite")
    assert "conflicts_json" not in [f.name for f in DeltaTable(str(path)).schema().fields]
    _edit_in_hubspot(product, amount="27000")
    assert product.reconcile().success
    assert "conflicts_json" in [f.name for f in DeltaTable(str(path)).schema().fields]


def _all_deals_carrying(product: Product, opp_id: str) -> list[str]:
    """Deal ids whose aws_opportunity_id is `opp_id`, by listing (no search: the index may lag)."""
    out, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 100, "properties": "aws_opportunity_id"}
        if after:
            params["after"] = after
        page = product.hubspot("GET", "/crm/v3/objects/deals", params=params)
        out += [str(d["id"]) for d in page["results"] if d["properties"].get("aws_opportunity_id") == opp_id]
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return out


def test_a_deal_hand_linked_under_search_lag_is_not_imported_twice(product: Product) -> None:
    """A seller links a deal to an opportunity created in Partner Central a moment before a run; the
    search index does not show it yet. The import's look-up is a batch read by the unique
    `aws_opportunity_id` (no lag): it links that deal instead of creating a second one."""
    assert product.reconcile().success  # the first run's bootstrap creates the properties
    opp_id = _create_in_partner_central(product)
    emulator = product.stack.hubspot
    try:
        emulator.configure(search_lag_seconds=30)
        body = {"properties": {"dealname": "Globex telemetry (seller's) #AWS", "aws_opportunity_id": opp_id}}
        hand_made = str(product.hubspot("POST", "/crm/v3/objects/deals", json=body)["id"])
        outcome = product.reconcile()
        assert outcome.success
        assert _all_deals_carrying(product, opp_id) == [hand_made], "a second deal was created"
        assert list(outcome.frames["opportunity_imports"]["status"]) == ["linked"]
        assert _opportunity(product, opp_id)["PartnerOpportunityIdentifier"] == f"HUBSPOT-{hand_made}"
    finally:
        emulator.configure(search_lag_seconds=0)


# -- customer, contacts and the multi-selects (merged member by member) ------------------------------


def _edit_record(product: Product, opp_id: str, edit: Any) -> None:
    """A console edit of any members: `edit` changes the full record, UpdateOpportunity sends it."""
    pc = product.pc()
    record = copy.deepcopy(dict(pc.get_opportunity(Catalog="AWS", Identifier=opp_id)))
    edit(record)
    request = project_input(record, "UpdateOpportunity")
    request.update(Catalog="AWS", Identifier=opp_id, LastModifiedDate=record["LastModifiedDate"])
    pc.update_opportunity(**request)


def _company(product: Product, *props: str) -> dict[str, Any]:
    names = ",".join(props)
    return product.hubspot("GET", f"/crm/v3/objects/companies/9001?properties={names}")["properties"]


def _contact(product: Product, *props: str) -> dict[str, Any]:
    names = ",".join(props)
    return product.hubspot("GET", f"/crm/v3/objects/contacts/8001?properties={names}")["properties"]


def test_a_customer_edit_in_partner_central_only_reaches_the_company_and_contact(product: Product) -> None:
    opp_id = _linked(product)
    _assert_second_run_writes_nothing(product)

    def edit(record: dict[str, Any]) -> None:
        account = record["Customer"]["Account"]
        account["CompanyName"] = "Acme Analytics Holdings"
        account["Industry"] = "Financial Services"
        account["Address"].update(City="Bellevue", PostalCode="98004")
        record["Customer"]["Contacts"][0]["BusinessTitle"] = "Chief Data Officer"
        record["Project"]["DeliveryModels"] = ["Managed Services"]

    _edit_record(product, opp_id, edit)
    hs_before = product.hubspot_calls()
    outcome = product.reconcile()
    assert outcome.success
    company = _company(product, "name", "industry", "city", "zip")
    assert (company["name"], company["industry"]) == ("Acme Analytics Holdings", "FINANCIAL_SERVICES")
    assert (company["city"], company["zip"]) == ("Bellevue", "98004")
    assert _contact(product, "jobtitle")["jobtitle"] == "Chief Data Officer"
    assert product.deal(DEAL_ID, "aws_delivery_models")["aws_delivery_models"] == "Managed Services"
    calls = {k: v - hs_before.get(k, 0) for k, v in product.hubspot_calls().items()}
    assert calls.get("POST /crm/objects/2026-09/companies/batch/update") == 1, calls  # batched
    assert calls.get("POST /crm/objects/2026-09/contacts/batch/update") == 1, calls
    opp = _opportunity(product, opp_id)
    assert opp["Customer"]["Account"]["CompanyName"] == "Acme Analytics Holdings", "the edit was not put back"
    assert opp["Customer"]["Contacts"][0]["BusinessTitle"] == "Chief Data Officer"
    assert opp["Project"]["DeliveryModels"] == ["Managed Services"]
    _assert_second_run_writes_nothing(product)


def test_a_partner_central_value_hubspot_cannot_hold_is_kept_and_explained(product: Product) -> None:
    """A contact added in Partner Central: HubSpot has no such contact on the deal (hspc does not
    guess one), so the opportunity keeps it, nothing is reverted, and the sweep says why."""
    opp_id = _linked(product)
    added = {"Email": "grace@acme.example", "FirstName": "Grace", "LastName": "Hopper"}
    _edit_record(product, opp_id, lambda r: r["Customer"]["Contacts"].append(added))
    assert product.reconcile().success
    emails = [c.get("Email") for c in _opportunity(product, opp_id)["Customer"]["Contacts"]]
    assert emails == ["ada@acme.example", "grace@acme.example"], "the Partner Central edit was reverted"
    _assert_second_run_writes_nothing(product)
    since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)).isoformat()
    sweep = product.reconcile(since=since)
    check = _check(product, sweep.run_id, "pairs_agree")
    meta = {k: v.value for k, v in check.metadata.items()}
    assert check.passed, meta
    assert "| contacts | 0 | 0 | 0 | 0 | 0 | 1 | 0 |" in meta["by_field_and_reason"]


def test_newest_goes_by_the_property_timestamp_not_the_deal_stamp(
    product: Product, tmp_path, monkeypatch
) -> None:
    """Both sides changed the stage; the deal was modified last (another property), but its stage
    before Partner Central's edit: `newest` picks Partner Central."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("conflict_policy: newest\n", encoding="utf-8")
    monkeypatch.setenv("HSPC_MAPPING_CONFIG", str(mapping))
    from hspc_pipelines.definitions import build_defs

    product.defs = build_defs(str(product.home))
    opp_id = _linked(product)
    _edit_in_hubspot(product, dealstage="contractsent")  # Committed, first
    time.sleep(1.1)  # ordering only: the three edits get distinct stamps
    _edit_in_partner_central(product, opp_id, LifeCycle={"Stage": "Business Validation"})
    time.sleep(1.1)
    _edit_in_hubspot(product, aws_next_steps="call the customer")  # the deal's stamp is now the newest
    deal = product.deal(DEAL_ID, "hs_lastmodifieddate")
    assert (
        str(deal["hs_lastmodifieddate"]) > _opportunity(product, opp_id)["LastModifiedDate"].isoformat()[:19]
    )
    assert product.reconcile().success
    assert _opportunity(product, opp_id)["LifeCycle"]["Stage"] == "Business Validation"
    assert product.deal(DEAL_ID, "dealstage")["dealstage"] == "decisionmakerboughtin"
    (note,) = [
        n for n in product.notes_on(DEAL_ID) if str(n["properties"]["hspc_note_key"]).startswith("conflict:")
    ]
    assert "kept Partner Central's Business Validation" in note["properties"]["hs_note_body"]
    _assert_second_run_writes_nothing(product)


def test_a_deal_linked_between_the_look_up_and_the_create_is_linked_by_the_conflict(
    product: Product, monkeypatch
) -> None:
    """The look-up missed the deal (linked after it): HubSpot refuses the second deal with the same
    unique aws_opportunity_id (409, naming the existing deal), and the import links that one."""
    from hspc_pipelines.reconcile import import_deals

    assert product.reconcile().success  # the properties exist
    opp_id = _create_in_partner_central(product)
    emulator = product.stack.hubspot
    try:
        emulator.configure(search_lag_seconds=30)  # the run's deal search does not see it either
        body = {"properties": {"dealname": "Globex (linked meanwhile) #AWS", "aws_opportunity_id": opp_id}}
        existing = str(product.hubspot("POST", "/crm/v3/objects/deals", json=body)["id"])
        monkeypatch.setattr(import_deals, "deals_linking", lambda hs, ids: {})
        outcome = product.reconcile()
        assert outcome.success
        assert _all_deals_carrying(product, opp_id) == [existing]
        assert list(outcome.frames["opportunity_imports"]["status"]) == ["linked"]
        assert _opportunity(product, opp_id)["PartnerOpportunityIdentifier"] == f"HUBSPOT-{existing}"
    finally:
        emulator.configure(search_lag_seconds=0)
