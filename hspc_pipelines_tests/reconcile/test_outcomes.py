"""The deal write that follows an apply result."""

from __future__ import annotations

from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.reconcile.outcomes import ApplyResult, deal_write_for

PLAN_ROW = {
    "deal_id": "101",
    "entity_key": "deal:101",
    "partition_date": "2026-11-29",
    "operation": "create",
    "deal_current": {"aws_opportunity_id": None, "aws_sync_status": None, "pipeline": "default"},
    "deal_updates": {},
    "notes": [],
}


def _created(record: dict[str, object] | None, error: str | None = None) -> ApplyResult:
    return ApplyResult(
        entity_key="deal:101",
        deal_id="101",
        opportunity_id="O1234567",
        operation=Operation.CREATE,
        status=RowStatus.CREATED,
        partition_date="2026-11-29",
        error_message=error,
        record=record,
    )


def test_created_but_not_read_back_still_links_the_deal() -> None:
    # Found by the 1,000-deal fault run: a ConflictException on the read-back left the deal without
    # its opportunity id, so the next run had to link it (a third run was not clean).
    write = deal_write_for(
        PLAN_ROW, _created(None, "created, but reading it back failed: x"), MappingConfig.default()
    )
    assert write is not None
    assert write.final_status == "created"
    assert write.properties["aws_opportunity_id"] == "O1234567"
    assert write.properties["aws_sync_status"] == "synced"


def test_failed_row_carries_its_reason_and_no_id() -> None:
    failed = ApplyResult(
        entity_key="deal:101",
        deal_id="101",
        opportunity_id=None,
        operation=Operation.CREATE,
        status=RowStatus.FAILED,
        partition_date="2026-11-29",
        error_code="ThrottlingException",
        error_message="Rate exceeded",
    )
    write = deal_write_for(PLAN_ROW, failed, MappingConfig.default())
    assert write is not None
    assert write.properties["aws_sync_status"] == "failed"
    assert "Rate exceeded" in (write.properties["aws_sync_error"] or "")
    assert "aws_opportunity_id" not in write.properties
