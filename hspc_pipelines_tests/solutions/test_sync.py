"""The deal's aws_solution_ids against the opportunity's solutions: the pure rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.mapping.vocabulary import Operation
from hspc_pipelines.reconcile.plan import PlanRow
from hspc_pipelines.solutions.sync import (
    CHANGE_FIELD,
    check_catalog,
    create_solutions,
    format_solution_ids,
    parse_solution_ids,
    plan_pair_solutions,
    solution_change,
)

IDS = st.lists(st.sampled_from([f"S-000000{i}" for i in range(12)]), unique=True, max_size=10)
CATALOG = [{"solution_id": f"S-000000{i}"} for i in range(12)]


def _row(operation: Operation = Operation.NONE, **kw) -> PlanRow:
    return PlanRow("deal:1", "2026-12-06", operation, "in sync", deal_id="1", opportunity_id="O1", **kw)


def _opp(solutions: list[str], review: str = "Pending Submission") -> dict:
    return {
        "Id": "O1",
        "LifeCycle": {"ReviewStatus": review},
        "RelatedEntityIdentifiers": {"Solutions": solutions},
    }


def test_parse_and_format() -> None:
    assert parse_solution_ids(" S-1 ; S-2;;S-1, S-3 ") == ["S-1", "S-2", "S-3"]
    assert parse_solution_ids(None) == parse_solution_ids("") == []
    assert format_solution_ids(["S-1", "S-2"]) == "S-1;S-2"


@given(IDS, IDS)
def test_the_change_makes_current_equal_to_wanted(wanted: list[str], current: list[str]) -> None:
    change = solution_change(wanted, current)
    after = [s for s in current if s not in change.disassociate] + list(change.associate)
    if wanted:
        assert sorted(after) == sorted(wanted)
        assert bool(change) == (set(wanted) != set(current))
    else:  # not chosen on the deal: nothing is taken away
        assert not change


def test_added_and_removed_solutions_make_a_solutions_only_update() -> None:
    row = _row()
    plan_pair_solutions(row, {"aws_solution_ids": "S-0000001;S-0000003"}, _opp(["S-0000001", "S-0000002"]))
    assert row.operation == Operation.UPDATE and row.request is None
    assert row.solution_ids == ["S-0000001", "S-0000003"]
    assert row.changed_fields[CHANGE_FIELD] == (["S-0000001", "S-0000002"], ["S-0000001", "S-0000003"])
    assert "+S-0000003" in row.reason and "-S-0000002" in row.reason


def test_an_update_keeps_its_request_and_adds_the_solutions() -> None:
    row = _row(Operation.UPDATE, request={"Identifier": "O1"})
    row.reason = "HubSpot-owned fields changed: Project.Title"
    plan_pair_solutions(row, {"aws_solution_ids": "S-0000004"}, _opp(["S-0000001"]))
    assert row.operation == Operation.UPDATE and row.request == {"Identifier": "O1"}
    assert row.solution_ids == ["S-0000004"] and "Project.Title" in row.reason


def test_same_set_in_another_order_plans_nothing() -> None:
    row = _row()
    plan_pair_solutions(row, {"aws_solution_ids": "S-0000002;S-0000001"}, _opp(["S-0000001", "S-0000002"]))
    assert row.operation == Operation.NONE and row.solution_ids == [] and not row.changed_fields


def test_an_empty_deal_gets_the_opportunitys_solutions_written_back() -> None:
    row = _row()
    plan_pair_solutions(row, {"aws_solution_ids": None, "dealname": "x"}, _opp(["S-0000001", "S-0000002"]))
    assert row.operation == Operation.WRITE_BACK
    assert row.deal_updates == {"aws_solution_ids": "S-0000001;S-0000002"}
    assert row.deal_current["dealname"] == "x" and row.solution_ids == []


def test_a_change_during_review_waits() -> None:
    row = _row()
    plan_pair_solutions(row, {"aws_solution_ids": "S-0000003"}, _opp(["S-0000001"], "In review"))
    assert row.operation == Operation.BLOCKED and "In review" in row.reason
    assert row.deal_updates["aws_sync_status"] == "blocked" and row.solution_ids == []


def test_more_than_ten_is_invalid_naming_the_property() -> None:
    row = _row()
    eleven = ";".join(f"S-{i:07d}" for i in range(11))
    plan_pair_solutions(row, {"aws_solution_ids": eleven}, _opp([]))
    assert row.operation == Operation.INVALID
    assert row.errors[0].startswith("aws_solution_ids:") and "at most 10" in row.errors[0]


def test_invalid_and_link_rows_are_left_alone() -> None:
    for operation in (Operation.INVALID, Operation.LINK):
        row = _row(operation)
        plan_pair_solutions(row, {"aws_solution_ids": "S-0000009"}, _opp([]))
        assert row.operation == operation and row.solution_ids == []


def test_an_id_the_partner_does_not_have_makes_an_invalid_row_naming_it() -> None:
    row = _row()
    plan_pair_solutions(row, {"aws_solution_ids": "S-0000001;S-9999999"}, _opp(["S-0000001"]))
    check_catalog([row], CATALOG)
    assert row.operation == Operation.INVALID and row.request is None and row.solution_ids == []
    assert "S-9999999" in row.reason and "ListSolutions" in row.reason
    assert "S-0000001'" not in row.reason  # the known one is not named
    assert row.deal_updates["aws_sync_status"] == "invalid"


def test_an_already_associated_solution_missing_from_the_catalog_is_left_alone() -> None:
    row = _row()
    plan_pair_solutions(row, {"aws_solution_ids": "S-OLD;S-0000002"}, _opp(["S-OLD"]))
    check_catalog([row], CATALOG)
    assert row.operation == Operation.UPDATE and row.solution_ids == ["S-OLD", "S-0000002"]


def test_create_uses_the_deals_own_else_matched_and_writes_them_back() -> None:
    own = _row(Operation.CREATE, deal_current={"aws_solution_ids": "S-0000005"})
    create_solutions(own, ["S-0000001"])
    assert own.solution_ids == ["S-0000005"] and "aws_solution_ids" not in own.deal_updates
    matched = _row(Operation.CREATE, deal_current={"aws_solution_ids": ""})
    create_solutions(matched, ["S-0000001", "S-0000002"])
    assert matched.solution_ids == ["S-0000001", "S-0000002"]
    assert matched.deal_updates == {"aws_solution_ids": "S-0000001;S-0000002"}
    unknown = _row(Operation.CREATE, deal_current={"aws_solution_ids": "S-NOPE"})
    create_solutions(unknown, [])
    check_catalog([unknown], CATALOG)
    assert unknown.operation == Operation.INVALID and "S-NOPE" in unknown.reason
