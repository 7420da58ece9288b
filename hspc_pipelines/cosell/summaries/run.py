"""AWS summaries: what AWS thinks of the deals it is looking at, written to the deals, with notifications.

1. Deals AWS is looking at: HubSpot search `aws_opportunity_id HAS_PROPERTY` and `aws_review_status IN
   (Submitted, In review, Approved, Action Required)`, paged (or exactly the given deal ids).
2. Their opportunities, cheaply: `fetch_opportunity_snapshot` with scope ids lists them 20 a call and
   GETs only those whose LastModifiedDate changed since the cached record.
3. GetAwsOpportunitySummary per opportunity (a failure leaves that deal's summary fields alone).
4. Deal properties through the mapping (`opportunity_to_deal_properties`), notifications through
   `sync.aws_summary.summary_update`, resource snapshot notes through `flows.resource_snapshots`.
5. Writes, in this order so that a crash anywhere repeats nothing and loses nothing:
   tasks for notifications new in this run (when HSPC_NOTIFY_TASKS=true; deduplicated by key) ->
   notes (keyed, exactly once) -> properties (only changed values, batched by `write_deals`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hspc_pipelines.cosell.hubspot_ops import create_tasks_once
from hspc_pipelines.cosell.summaries.resource_snapshots import new_snapshot_notes
from hspc_pipelines.cosell.summaries.rules import SummaryUpdate, summary_update
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.notes import NoteSpec
from hspc_pipelines.mapping import MappingConfig, opportunity_to_deal_properties
from hspc_pipelines.mapping.properties import DEAL_PROPERTIES
from hspc_pipelines.mapping.vocabulary import WATCHED_REVIEW_STATUSES, RowStatus, in_model_order, plain_fields
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import AccessDeniedError, PartnerCentralError
from hspc_pipelines.partner_central.records import to_jsonable
from hspc_pipelines.reconcile.outcomes import DealWrite
from hspc_pipelines.reconcile.pc_snapshot import fetch_opportunity_snapshot
from hspc_pipelines.reconcile.writeback import existing_note_keys, write_deals
from hspc_pipelines.state.store import SyncStateStore

log = logging.getLogger(__name__)

# Notifications that also become a task for the deal owner (when enabled).
TASK_KEY_PREFIXES = ("review:", "score:", "seller:", "closed-lost:")


@dataclass
class SummaryRow:
    deal_id: str
    opportunity_id: str
    status: RowStatus  # written | unchanged | failed
    review_status: str | None = None
    engagement_score: str | None = None
    changed_properties: list[str] = field(default_factory=list)
    notes_written: int = 0
    tasks_written: int = 0
    snapshot_notes: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self, dict_factory=plain_fields)


def find_watched_deals(hs: HubSpotClient, deal_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Linked deals under AWS review or approved (search, paged), or exactly `deal_ids` when given."""
    if deal_ids:
        result = hs.batch_read("deals", list(deal_ids), DEAL_PROPERTIES)
        return [d for d in result.results if (d.get("properties") or {}).get("aws_opportunity_id")]
    group = {
        "filters": [
            {"propertyName": "aws_opportunity_id", "operator": "HAS_PROPERTY"},
            {
                "propertyName": "aws_review_status",
                "operator": "IN",
                "values": in_model_order(WATCHED_REVIEW_STATUSES),
            },
        ]
    }
    return list(hs.search_objects("deals", [group], DEAL_PROPERTIES))


# deal id -> (the deal's current properties, the properties to write, the notes to add)
_Updates = dict[str, tuple[dict[str, Any], dict[str, str | None], list[NoteSpec]]]


def sync_aws_summaries(
    hs: HubSpotClient,
    pc: PartnerCentralClient,
    store: SyncStateStore,
    config: MappingConfig,
    notify_tasks: bool = False,
    deal_ids: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> list[SummaryRow]:
    now = now or dt.datetime.now(dt.UTC)
    deals = find_watched_deals(hs, deal_ids)
    if not deals:
        return []
    today = now.date().isoformat()
    opp_by_deal = {str(d["id"]): str(d["properties"]["aws_opportunity_id"]).strip() for d in deals}
    records = _watched_opportunities(pc, store, sorted(set(opp_by_deal.values())), now)

    rows: dict[str, SummaryRow] = {}
    updates: _Updates = {}
    for deal in deals:
        deal_id, props = str(deal["id"]), dict(deal.get("properties") or {})
        row = rows[deal_id] = SummaryRow(deal_id, opp_by_deal[deal_id], RowStatus.UNCHANGED)
        update = _summarise_deal(pc, config, row, props, records.get(row.opportunity_id))
        if update is not None:
            updates[deal_id] = (props, update.properties, update.notes)

    have = existing_note_keys(hs, updates)
    _add_snapshot_notes(pc, rows, updates, have)
    if notify_tasks:
        _create_owner_tasks(hs, rows, updates, have, now)
    note_failed = _write_notes(hs, rows, updates, today, now)
    prop_failed = _write_properties(hs, rows, updates, note_failed, today, now)
    _settle_statuses(rows, note_failed | prop_failed)
    return [rows[str(d["id"])] for d in deals]


def _watched_opportunities(
    pc: PartnerCentralClient, store: SyncStateStore, opp_ids: list[str], now: dt.datetime
) -> dict[str, dict[str, Any]]:
    """Opportunity id -> record, listed 20 a call and read again only where LastModifiedDate changed."""
    today = now.date().isoformat()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        str(rec["Id"]): rec
        for rec, _, _ in fetch_opportunity_snapshot(
            pc, store, start, start + dt.timedelta(days=1), {o: today for o in opp_ids}, {}, scope_ids=opp_ids
        )
    }


def _summarise_deal(
    pc: PartnerCentralClient,
    config: MappingConfig,
    row: SummaryRow,
    props: Mapping[str, Any],
    opp: Mapping[str, Any] | None,
) -> SummaryUpdate | None:
    """What the deal should show of its opportunity and AWS's summary (the row records it), or None
    (the row failed) when the linked id is not an opportunity of the catalog."""
    if opp is None:
        row.status = RowStatus.FAILED
        row.errors.append(
            f"aws_opportunity_id {row.opportunity_id} is not an opportunity in catalog {pc.catalog}"
        )
        return None
    summary = _aws_summary(pc, row)
    mapped = opportunity_to_deal_properties(opp, summary, config, props.get("pipeline"))
    update = summary_update(row.deal_id, props, opp, summary, mapped)
    row.review_status = (opp.get("LifeCycle") or {}).get("ReviewStatus")
    row.engagement_score = ((summary or {}).get("Insights") or {}).get("EngagementScore")
    row.changed_properties = sorted(update.properties)
    return update


def _aws_summary(pc: PartnerCentralClient, row: SummaryRow) -> dict[str, Any] | None:
    """GetAwsOpportunitySummary; a failure is the row's error and leaves the deal's summary fields alone."""
    try:
        summary: dict[str, Any] = to_jsonable(pc.get_aws_opportunity_summary(row.opportunity_id))
    except AccessDeniedError:
        raise
    except PartnerCentralError as exc:
        row.errors.append(f"GetAwsOpportunitySummary {row.opportunity_id}: {exc}")
        return None
    return summary


def _add_snapshot_notes(
    pc: PartnerCentralClient, rows: dict[str, SummaryRow], updates: _Updates, have: Mapping[str, set[str]]
) -> None:
    """Each deal's notes gain one for every resource snapshot revision it has no note for yet."""
    for deal_id, (_, _, notes) in updates.items():
        snap_notes, errors = new_snapshot_notes(pc, rows[deal_id].opportunity_id, have.get(deal_id, set()))
        notes.extend(snap_notes)
        rows[deal_id].snapshot_notes = len(snap_notes)
        rows[deal_id].errors.extend(errors)


def _create_owner_tasks(
    hs: HubSpotClient,
    rows: dict[str, SummaryRow],
    updates: _Updates,
    have: Mapping[str, set[str]],
    now: dt.datetime,
) -> None:
    """A task for the deal owner per notification new in this run (TASK_KEY_PREFIXES), each once."""
    wanted = [
        (deal_id, note, props.get("hubspot_owner_id"))
        for deal_id, (props, _, notes) in updates.items()
        for note in notes
        if note.key.startswith(TASK_KEY_PREFIXES) and note.key not in have.get(deal_id, set())
    ]
    created, task_errors = create_tasks_once(hs, wanted, now)
    for deal_id, task_error in task_errors.items():
        rows[deal_id].errors.append(task_error)
    for deal_id, count in created.items():
        rows[deal_id].tasks_written = count


def _deal_write(
    deal_id: str,
    today: str,
    properties: Mapping[str, str | None] | None = None,
    notes: list[NoteSpec] | None = None,
) -> DealWrite:
    return DealWrite(
        deal_id=deal_id,
        entity_key=f"deal:{deal_id}",
        partition_date=today,
        final_status=RowStatus.WRITTEN,
        properties=dict(properties or {}),
        notes=notes or [],
    )


def _write_notes(
    hs: HubSpotClient, rows: dict[str, SummaryRow], updates: _Updates, today: str, now: dt.datetime
) -> set[str]:
    """The notes (keyed, exactly once); returns the deals whose notes failed."""
    writes = [_deal_write(d, today, notes=notes) for d, (_, _, notes) in updates.items() if notes]
    failed: set[str] = set()
    for write, outcome, written, error in write_deals(hs, writes, now):
        rows[write.deal_id].notes_written += written
        if outcome in (RowStatus.FAILED, RowStatus.INVALID):
            failed.add(write.deal_id)
            rows[write.deal_id].errors.append(str(error))
    return failed


def _write_properties(
    hs: HubSpotClient,
    rows: dict[str, SummaryRow],
    updates: _Updates,
    note_failed: set[str],
    today: str,
    now: dt.datetime,
) -> set[str]:
    """The changed properties; returns the deals whose write failed. A deal whose notes failed keeps
    its old values, so the next run sees the same transitions again."""
    writes = [
        _deal_write(d, today, properties=properties)
        for d, (_, properties, _) in updates.items()
        if properties and d not in note_failed
    ]
    failed: set[str] = set()
    for write, outcome, _, error in write_deals(hs, writes, now):
        if outcome in (RowStatus.FAILED, RowStatus.INVALID):
            failed.add(write.deal_id)
            rows[write.deal_id].errors.append(str(error))
    return failed


def _settle_statuses(rows: dict[str, SummaryRow], failed: set[str]) -> None:
    """A row not failed already fails with its writes, or is written when anything was written."""
    for deal_id, row in rows.items():
        if row.status == RowStatus.FAILED:
            continue
        if deal_id in failed:
            row.status, row.changed_properties = RowStatus.FAILED, []
        elif row.changed_properties or row.notes_written or row.tasks_written:
            row.status = RowStatus.WRITTEN


def summaries_jsonable(rows: Sequence[SummaryRow]) -> list[Mapping[str, Any]]:
    return [to_jsonable(r.as_dict()) for r in rows]
