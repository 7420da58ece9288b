"""The deal's aws_solution_ids end to end against the emulators: chosen at create and written back,
added and removed by editing the deal, an unknown id refused by name; each run followed by one that
writes nothing."""

from __future__ import annotations

from typing import Any

from hspc_pipelines_tests.support.product import DEAL_ID, Product, seed_deal

WRITE_PREFIXES = ("Create", "Update", "Associate", "Disassociate", "Submit", "Start", "Accept", "Reject")


def _pc_writes(product: Product) -> dict[str, int]:
    return {op: n for op, n in product.pc_calls().items() if op.startswith(WRITE_PREFIXES)}


def _hs_writes(product: Product) -> dict[str, int]:
    return {
        k: v
        for k, v in product.hubspot_calls().items()
        if "batch/update" in k or "batch/create" in k or k.startswith(("PATCH", "PUT", "DELETE"))
    }


def _opportunity_solutions(product: Product, opp_id: str) -> list[str]:
    record: dict[str, Any] = product.pc().get_opportunity(Catalog="AWS", Identifier=opp_id)
    return list((record.get("RelatedEntityIdentifiers") or {}).get("Solutions") or [])


def _set_solutions(product: Product, value: str) -> None:
    product.hubspot(
        "PATCH", f"/crm/v3/objects/deals/{DEAL_ID}", json={"properties": {"aws_solution_ids": value}}
    )


def _second_run_writes_nothing(product: Product) -> None:
    product.stack.hubspot.reset_stats()
    _pc_emulator(product).reset_stats()
    assert product.reconcile().success
    assert _pc_writes(product) == {} and _hs_writes(product) == {}


def test_solutions_follow_the_deal(product: Product) -> None:
    listed = product.pc().list_solutions(Catalog="AWS", MaxResults=100)["SolutionSummaries"]
    catalog = {s["Name"]: s["Id"] for s in listed}
    seed_deal(product)

    # create: the deal names none, so matching chooses and the choice is written back to the deal
    assert product.reconcile().success
    deal = product.deal(DEAL_ID, "aws_opportunity_id", "aws_solution_ids")
    opp_id = deal["aws_opportunity_id"]
    chosen = deal["aws_solution_ids"].split(";")
    assert chosen and set(chosen) <= set(catalog.values())
    assert _opportunity_solutions(product, opp_id) == chosen
    _second_run_writes_nothing(product)

    # the seller swaps solutions: the new one is associated, the removed one disassociated
    removed, kept = chosen[0], chosen[1:]
    added = catalog["Security Operations"]
    assert added not in chosen
    wanted = [*kept, added]
    _set_solutions(product, ";".join(wanted))
    _pc_emulator(product).reset_stats()
    assert product.reconcile().success
    assert sorted(_opportunity_solutions(product, opp_id)) == sorted(wanted)
    assert removed not in _opportunity_solutions(product, opp_id)
    calls = _pc_writes(product)
    assert calls == {"AssociateOpportunity": 1, "DisassociateOpportunity": 1}  # no UpdateOpportunity
    assert product.deal(DEAL_ID, "aws_sync_status")["aws_sync_status"] == "synced"
    _second_run_writes_nothing(product)

    # an id the partner does not have: an invalid row naming it, nothing sent
    _set_solutions(product, ";".join([*wanted, "S-9999999"]))
    _pc_emulator(product).reset_stats()
    outcome = product.reconcile()
    plan = outcome.frames["sync_plan"].to_dict("records")
    (row,) = [r for r in plan if str(r["deal_id"]) == DEAL_ID]
    assert row["operation"] == "invalid" and "S-9999999" in row["reason"]
    assert _pc_writes(product) == {}
    deal = product.deal(DEAL_ID, "aws_sync_status", "aws_sync_error")
    assert deal["aws_sync_status"] == "invalid" and "S-9999999" in deal["aws_sync_error"]
    assert sorted(_opportunity_solutions(product, opp_id)) == sorted(wanted)

    # cleared on the deal: nothing is taken away; the deal shows the opportunity's solutions again
    _set_solutions(product, "")
    _pc_emulator(product).reset_stats()
    assert product.reconcile().success
    assert _pc_writes(product) == {}
    shown = product.deal(DEAL_ID, "aws_solution_ids", "aws_sync_status")
    assert sorted(shown["aws_solution_ids"].split(";")) == sorted(wanted)
    assert shown["aws_sync_status"] == "synced"
    _second_run_writes_nothing(product)


def _pc_emulator(product: Product) -> Any:
    emulator = product.stack.partner_central
    assert emulator is not None, "the stack runs the Partner Central emulator"
    return emulator
