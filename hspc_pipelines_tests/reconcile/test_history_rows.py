"""reconcile/history_rows: a run's plan rows, apply results and deal writes as history entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.mapping.vocabulary import PLANNED_STATUS, Operation, RowStatus
from hspc_pipelines.reconcile.history_rows import DEAL_WRITE_FAILED, INVALID_DEAL, history_entries
from hspc_pipelines.reconcile.outcomes import ApplyResult, DealWrite

NOW = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
APPLIED = (Operation.CREATE, Operation.LINK, Operation.UPDATE)


def _plan(n: int, operation: Operation, **extra: Any) -> dict[str, Any]:
    return {
        "entity_key": f"deal:{n}",
        "partition_date": "2026-12-05",
        "deal_id": str(n),
        "opportunity_id": f"O{n}" if operation != Operation.CREATE else None,
        "operation": str(operation),
        "reason": f"reason {n}",
        "changed_fields": {},
        "deal_updates": {},
        "deal_current": {},
        **extra,
    }


def _write(plan: dict[str, Any], status: RowStatus, props: dict[str, str | None] | None = None) -> Any:
    final = PLANNED_STATUS[Operation(plan["operation"])]
    w = DealWrite(str(plan["deal_id"]), plan["entity_key"], "2026-12-05", final, props or {})
    return (w, status, 0, "HTTP 500" if status == RowStatus.FAILED else None)


def _run(plans, results=(), outcomes=()):
    return history_entries(
        plans, results, outcomes, run_id="r1", job_name="reconcile", window="2026-12-05", recorded_at=NOW
    )


def test_a_create_carries_the_new_opportunity_and_the_properties_written():
    plan = _plan(1, Operation.CREATE, deal_current={"aws_opportunity_id": None, "dealname": "Acme #AWS"})
    result = ApplyResult(
        "deal:1", "1", "O9", Operation.CREATE, RowStatus.CREATED, "2026-12-05",
        record={"LifeCycle": {"ReviewStatus": "Pending Submission"}},
    )  # fmt: skip
    write = _write(plan, RowStatus.WRITTEN, {"aws_opportunity_id": "O9", "aws_sync_status": "synced"})
    run = _run([plan], [result], [write])
    (entry,) = run.entries
    assert (entry.operation, entry.status, entry.opportunity_id) == ("create", "created", "O9")
    assert (entry.run_id, entry.job_name, entry.window, entry.recorded_at) == (
        "r1",
        "reconcile",
        "2026-12-05",
        NOW,
    )
    assert entry.review_status == "Pending Submission" and entry.message == "reason 1"
    assert [(c.name, c.old, c.new) for c in entry.changes] == [
        ("aws_opportunity_id", None, "O9"),
        ("aws_sync_status", None, "synced"),
    ]


def test_an_update_lists_the_opportunity_fields_old_to_new():
    plan = _plan(2, Operation.UPDATE, changed_fields={"Project.Title": ["Old", "New"]})
    result = ApplyResult("deal:2", "2", "O2", Operation.UPDATE, RowStatus.UPDATED, "2026-12-05")
    (entry,) = _run([plan], [result], [_write(plan, RowStatus.UNCHANGED)]).entries
    assert entry.status == "updated"
    assert [(c.name, c.old, c.new) for c in entry.changes] == [("opportunity.Project.Title", "Old", "New")]


def test_failures_carry_their_code_and_message():
    create = _plan(3, Operation.CREATE)
    failed = ApplyResult(
        "deal:3", "3", None, Operation.CREATE, RowStatus.FAILED, "2026-12-05", "ValidationException", "bad"
    )
    invalid = _plan(4, Operation.INVALID, reason="deal fails validation: amount: missing")
    linked = _plan(5, Operation.LINK)
    linked_result = ApplyResult("deal:5", "5", "O5", Operation.LINK, RowStatus.LINKED, "2026-12-05")
    run = _run(
        [create, invalid, linked],
        [failed, linked_result],
        [
            _write(create, RowStatus.WRITTEN),
            _write(invalid, RowStatus.UNCHANGED),
            _write(linked, RowStatus.FAILED),
        ],
    )
    by_deal = {e.deal_id: e for e in run.entries}
    assert (by_deal["3"].status, by_deal["3"].reason_code, by_deal["3"].message) == (
        "failed", "ValidationException", "bad",
    )  # fmt: skip
    assert (by_deal["4"].status, by_deal["4"].reason_code) == ("invalid", INVALID_DEAL)
    assert by_deal["4"].message == "deal fails validation: amount: missing"
    assert (by_deal["5"].status, by_deal["5"].reason_code) == ("failed", DEAL_WRITE_FAILED)
    assert by_deal["5"].message == "linked in Partner Central; HTTP 500"


def test_none_rows_that_ended_unchanged_are_counted_not_logged():
    quiet = _plan(6, Operation.NONE)
    failing = _plan(7, Operation.NONE)
    run = _run([quiet, failing], [], [_write(quiet, RowStatus.UNCHANGED), _write(failing, RowStatus.FAILED)])
    assert run.unchanged == 1
    assert [(e.deal_id, e.status) for e in run.entries] == [("7", "failed")]


def test_a_write_back_with_nothing_left_to_write_ends_unchanged_and_is_logged():
    plan = _plan(8, Operation.WRITE_BACK)
    (entry,) = _run([plan], [], [_write(plan, RowStatus.UNCHANGED)]).entries
    assert (entry.operation, entry.status) == ("write-back", "unchanged")


_rows = st.lists(
    st.tuples(
        st.sampled_from(list(Operation)),
        st.sampled_from([RowStatus.CREATED, RowStatus.FAILED, RowStatus.BLOCKED, None]),  # apply result
        st.sampled_from([RowStatus.WRITTEN, RowStatus.UNCHANGED, RowStatus.FAILED, None]),  # deal write
    ),
    max_size=30,
)


@given(_rows)
def test_every_row_but_an_unchanged_none_yields_exactly_one_entry(rows):
    plans, results, outcomes = [], [], []
    for n, (operation, applied, written) in enumerate(rows):
        plan = _plan(n, operation)
        plans.append(plan)
        if applied is not None and operation in APPLIED:
            results.append(ApplyResult(f"deal:{n}", str(n), f"O{n}", operation, applied, "2026-12-05"))
        if written is not None:
            outcomes.append(_write(plan, written))
    run = _run(plans, results, outcomes)
    per_deal: dict[str, int] = {}
    for e in run.entries:
        per_deal[str(e.deal_id)] = per_deal.get(str(e.deal_id), 0) + 1
    assert all(n == 1 for n in per_deal.values())
    non_none = {str(n) for n, (op, _, _) in enumerate(rows) if op != Operation.NONE}
    assert non_none <= set(per_deal), "every non-none row is logged"
    assert len(run.entries) + run.unchanged == len(rows)
    for e in run.entries:
        assert e.operation != "none" or e.status != "unchanged"
        assert e.status in {s.value for s in RowStatus}
