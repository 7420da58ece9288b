"""The co-sell flows' rows as sync-history entries (docs/history.md). Pure: rows in, entries out.

As in the reconcile, rows where the run did nothing (an invitation with action `none`, a summary that
left the deal `unchanged`) are counted by the caller, not logged: the flows poll on a schedule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from hspc_pipelines.history.records import HistoryEntry
from hspc_pipelines.mapping.vocabulary import InvitationAction, RowStatus

_QUIET_INVITATION_ACTIONS = frozenset({InvitationAction.NONE.value})
_QUIET_SUMMARY_STATUSES = frozenset({RowStatus.UNCHANGED.value})


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def invitation_entries(
    rows: Iterable[Any], *, run_id: str, job_name: str, scope: Sequence[str] = ()
) -> tuple[list[HistoryEntry], int]:
    """One entry per invitation row (`InvitationRow`) the run acted on: operation `invitation`,
    status the action (accepted, rejected, deal_created, failed...), the rule as the reason code.
    Returns the entries and how many rows did nothing."""
    entries, quiet = [], 0
    for row in rows:
        if str(row.action) in _QUIET_INVITATION_ACTIONS:
            quiet += 1
            continue
        entries.append(
            _row_entry(
                row,
                run_id=run_id,
                job_name=job_name,
                scope=scope,
                operation="invitation",
                status=str(row.action),
                reason_code=_text(row.rule),
                message=f"invitation {row.invitation_id} ({row.status})"
                + (f": {row.reason}" if row.reason else ""),
            )
        )
    return entries, quiet


def submission_entry(
    result: Any,
    *,
    run_id: str,
    job_name: str,
    actor: str | None = None,
    requested_at: dt.datetime | None = None,
) -> HistoryEntry:
    """The one row of a submission (`SubmissionResult`): operation `submit`, its status and message,
    and who asked for it and when (`actor`: `api-token:<id>` or `hubspot-user:<id>`)."""
    return HistoryEntry(
        run_id=run_id,
        job_name=job_name,
        scope=(str(result.deal_id),),
        deal_id=_text(result.deal_id),
        opportunity_id=_text(result.opportunity_id),
        operation="submit",
        status=str(result.status),
        review_status=_text(result.review_status),
        message=_text(result.message),
        actor=actor,
        requested_at=requested_at,
    )


def summary_entries(
    rows: Iterable[Any], *, run_id: str, job_name: str, scope: Sequence[str] = ()
) -> tuple[list[HistoryEntry], int]:
    """One entry per summary row (`SummaryRow`) that wrote or failed: operation `summary`; the
    properties it changed and its errors in the message. Returns the entries and the unchanged count."""
    entries, quiet = [], 0
    for row in rows:
        if str(row.status) in _QUIET_SUMMARY_STATUSES:
            quiet += 1
            continue
        parts = []
        if row.changed_properties:
            parts.append("changed " + ", ".join(row.changed_properties))
        parts += list(row.errors or [])
        entries.append(
            _row_entry(
                row,
                run_id=run_id,
                job_name=job_name,
                scope=scope,
                operation="summary",
                status=str(row.status),
                review_status=_text(row.review_status),
                message="; ".join(parts) or None,
            )
        )
    return entries, quiet


def _row_entry(
    row: Any, *, run_id: str, job_name: str, scope: Sequence[str], operation: str, status: str, **fields: Any
) -> HistoryEntry:
    """The entry of one flow row: the run, the scope and the row's deal and opportunity, plus `fields`."""
    return HistoryEntry(
        run_id=run_id,
        job_name=job_name,
        scope=tuple(scope),
        deal_id=_text(row.deal_id),
        opportunity_id=_text(row.opportunity_id),
        operation=operation,
        status=status,
        **fields,
    )
