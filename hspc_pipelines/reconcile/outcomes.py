"""From plan rows and apply results to what must be written on each deal.

Every row ends as created / linked / updated / written / unchanged / blocked / invalid / failed /
deferred, and the deal carries the matching `aws_sync_status` and `aws_sync_error`, so a seller sees
why (a deferred row: `pending`, with the reason and the time it is expected to go).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hspc_pipelines.hubspot.notes import NoteSpec
from hspc_pipelines.mapping import MappingConfig, opportunity_to_deal_properties
from hspc_pipelines.mapping.vocabulary import PLANNED_STATUS, Operation, RowStatus, SyncStatus
from hspc_pipelines.reconcile.plan import property_changes


@dataclass
class ApplyResult:
    """What an apply step did with one plan row."""

    entity_key: str
    deal_id: str | None
    opportunity_id: str | None
    operation: Operation
    status: RowStatus
    partition_date: str
    error_code: str | None = None
    error_message: str | None = None
    record: dict[str, Any] | None = None


@dataclass
class DealWrite:
    deal_id: str
    entity_key: str
    partition_date: str
    final_status: RowStatus
    properties: dict[str, str | None] = field(default_factory=dict)
    notes: list[NoteSpec] = field(default_factory=list)
    # False when the plan had no snapshot of the deal: the writer reads it and diffs first.
    has_current: bool = True
    # The deal's company and contacts brought to Partner Central's edits (`PlanRow.record_updates`).
    records: list[dict[str, Any]] = field(default_factory=list)


# A row that resolved a conflict (`reconcile/merge.py`) and was carried out ends `conflict`.
CONFLICT_RESOLVED = frozenset({RowStatus.UPDATED, RowStatus.WRITTEN, RowStatus.UNCHANGED})

# Apply results whose record was written to Partner Central (and read back, when `record` is set).
_WRITTEN_TO_PC = frozenset({RowStatus.CREATED, RowStatus.UPDATED, RowStatus.LINKED})


def _error_text(result: ApplyResult) -> str:
    code = f"{result.error_code}: " if result.error_code else ""
    return f"{code}{result.error_message or 'unknown error'}"


def deal_write_for(
    plan: Mapping[str, Any],
    result: ApplyResult | None,
    config: MappingConfig,
) -> DealWrite | None:
    """The deal write for one plan row (a dict of the plan frame's columns) and its apply result."""
    deal_id = plan.get("deal_id")
    if not deal_id:
        return None
    current: dict[str, str | None] = dict(plan.get("deal_current") or {})
    wanted: dict[str, str | None] = dict(plan.get("deal_updates") or {})
    notes = [NoteSpec(**n) if isinstance(n, Mapping) else n for n in plan.get("notes") or []]
    records = [dict(r) for r in plan.get("record_updates") or []]
    status = PLANNED_STATUS[Operation(str(plan["operation"]))]
    if result is not None:
        status = result.status
        if result.status in _WRITTEN_TO_PC and result.record is not None:
            pipeline = current.get("pipeline")
            wanted.update(opportunity_to_deal_properties(result.record, None, config, pipeline))
            wanted.update({"aws_sync_status": SyncStatus.SYNCED.value, "aws_sync_error": None})
        elif result.status in (RowStatus.CREATED, RowStatus.LINKED) and result.opportunity_id:
            # Written, but reading the record back failed: link the deal now, or the next run would
            # have to find it again; the Partner-Central-owned fields follow on the next run.
            wanted.update(
                {
                    "aws_opportunity_id": str(result.opportunity_id),
                    "aws_sync_status": SyncStatus.SYNCED.value,
                    "aws_sync_error": None,
                }
            )
        elif result.status == RowStatus.FAILED:
            wanted = {"aws_sync_status": SyncStatus.FAILED.value, "aws_sync_error": _error_text(result)}
            records = []  # the row comes back whole in the next plan
        elif result.status == RowStatus.DEFERRED:
            # Not attempted (the write budget): the deal says so and when it is expected to go.
            wanted = {"aws_sync_status": SyncStatus.PENDING.value, "aws_sync_error": result.error_message}
            records = []
        elif result.status == RowStatus.BLOCKED:
            wanted.update(
                {"aws_sync_status": SyncStatus.BLOCKED.value, "aws_sync_error": result.error_message}
            )
    if plan.get("conflicts") and status in CONFLICT_RESOLVED:
        status = RowStatus.CONFLICT
    # A write that wants nothing needs no copy of the deal to diff against (`none` rows carry none).
    has_current = bool(current) or not wanted
    properties = property_changes(current, wanted) if has_current else wanted
    return DealWrite(
        deal_id=str(deal_id),
        entity_key=str(plan["entity_key"]),
        partition_date=str(plan["partition_date"]),
        final_status=status,
        properties=properties,
        notes=notes,
        has_current=has_current,
        records=records,
    )
