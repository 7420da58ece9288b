"""One reconcile run's row outcomes as sync-history entries (docs/history.md). Pure: plan rows, apply
results and deal-write outcomes in, `HistoryEntry`s out.

Every plan row yields exactly one entry, except a `none` row that ended unchanged: a converged pair
is the usual case (a 10,000-pair no-op run every 15 minutes would add about a million rows a day
that say nothing), so those are only counted (`RunHistory.unchanged`) and shown in the run's
metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.history.records import FieldChange, HistoryEntry, changes_between
from hspc_pipelines.mapping.vocabulary import PLANNED_STATUS, Operation, RowStatus
from hspc_pipelines.reconcile.outcomes import CONFLICT_RESOLVED, ApplyResult, DealWrite

# (write, write status, notes written, error): `writeback.Outcome`, without importing the writer.
WriteOutcome = tuple[DealWrite, str, int, str | None]

# The deal write failed after the row's own step: the code the entry carries.
DEAL_WRITE_FAILED = "HubSpotWriteFailed"
INVALID_DEAL = "InvalidDeal"
# HubSpot's portal refused the deal write with one of its required-property rules (hubspot/portal_rules.py).
PORTAL_RULE = "HubSpotPortalRule"
CONFLICT = "FieldConflict"  # both sides changed a field; the message names the value that lost
_REASON_CODE_LIMIT = 128  # the column's width


@dataclass(frozen=True)
class RunHistory:
    """What a run appends, and how many `none` rows ended unchanged and were only counted."""

    entries: list[HistoryEntry]
    unchanged: int


def _review_status(
    result: ApplyResult | None, written: Mapping[str, Any], current: Mapping[str, Any]
) -> str | None:
    """The opportunity's review status after the row: read back by the apply step, else as written
    on (or already on) the deal."""
    lifecycle = (result.record or {}).get("LifeCycle") if result is not None else None
    if isinstance(lifecycle, Mapping) and isinstance(lifecycle.get("ReviewStatus"), str):
        return str(lifecycle["ReviewStatus"])
    value = written.get("aws_review_status") or current.get("aws_review_status")
    return str(value) if value else None


def _changes(plan: Mapping[str, Any], written: Mapping[str, Any] | None) -> list[FieldChange]:
    """The opportunity fields the plan changed (`opportunity.<path>`, old -> new), then the deal
    properties the write-back wrote (old from the plan's copy of the deal, when it had one)."""
    opp = plan.get("changed_fields") or {}
    before = {f"opportunity.{k}": v[0] for k, v in opp.items()}
    after = {f"opportunity.{k}": v[1] for k, v in opp.items()}
    changes = changes_between(before, after)
    if written:
        current = plan.get("deal_current") or {}
        changes += changes_between({k: current.get(k) for k in written}, dict(written))
    return changes


def _message(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def history_entries(
    plan_rows: Iterable[Mapping[str, Any]],
    results: Iterable[ApplyResult],
    outcomes: Iterable[WriteOutcome],
    *,
    run_id: str,
    job_name: str,
    window: str | None = None,
    scope: Sequence[str] = (),
    recorded_at: dt.datetime | None = None,
) -> RunHistory:
    """One entry per plan row (dicts as `frames.plan_rows` gives them), with its final status: the
    deal write's failure, else the apply step's status, else the planned one; a write-back that found
    the deal already up to date ends `unchanged`. `none` rows that ended unchanged are counted only."""
    by_key = {r.entity_key: r for r in results}
    writes = {str(w.entity_key): (w, str(status), error) for w, status, _, error in outcomes}
    entries: list[HistoryEntry] = []
    unchanged = 0
    for plan in plan_rows:
        key = str(plan["entity_key"])
        operation = Operation(str(plan["operation"]))
        result = by_key.get(key)
        write = writes.get(key)
        status: str = str(result.status if result is not None else PLANNED_STATUS[operation])
        reason_code: str | None = None
        message: str | None = plan.get("reason") or None
        if result is not None and result.status in (
            RowStatus.FAILED,
            RowStatus.BLOCKED,
            RowStatus.INVALID,
            RowStatus.DEFERRED,
        ):
            reason_code, message = result.error_code, result.error_message or message
        elif operation == Operation.INVALID:
            reason_code = INVALID_DEAL
        written: Mapping[str, Any] | None = None
        if write is not None:
            deal_write, write_status, error = write
            if write_status in (RowStatus.FAILED, RowStatus.INVALID):
                if status not in (RowStatus.FAILED, RowStatus.INVALID):
                    message = _message(f"{status} in Partner Central" if result else None, error)
                    reason_code = PORTAL_RULE if write_status == RowStatus.INVALID else DEAL_WRITE_FAILED
                else:
                    message = _message(message, f"the deal write failed too: {error}")
                status = RowStatus.FAILED if status == RowStatus.FAILED else write_status
            elif write_status == RowStatus.WRITTEN:
                written = deal_write.properties
            elif status == RowStatus.WRITTEN:  # a write-back with nothing left to write
                status = RowStatus.UNCHANGED
        if plan.get("conflicts") and status in CONFLICT_RESOLVED:
            status, reason_code = RowStatus.CONFLICT, CONFLICT
        if operation == Operation.NONE and status == RowStatus.UNCHANGED:
            unchanged += 1
            continue
        opportunity_id = (result.opportunity_id if result is not None else None) or plan.get("opportunity_id")
        entries.append(
            HistoryEntry(
                run_id=run_id,
                job_name=job_name,
                window=window,
                scope=tuple(scope),
                deal_id=str(plan["deal_id"]) if plan.get("deal_id") else None,
                opportunity_id=str(opportunity_id) if opportunity_id else None,
                operation=str(operation),
                status=status,
                review_status=_review_status(result, written or {}, plan.get("deal_current") or {}),
                reason_code=reason_code[:_REASON_CODE_LIMIT] if reason_code else None,
                message=message,
                changes=_changes(plan, written),
                recorded_at=recorded_at,
            )
        )
    return RunHistory(entries=entries, unchanged=unchanged)
