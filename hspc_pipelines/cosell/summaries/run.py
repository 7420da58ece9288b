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
from hspc_pipelines.cosell.summaries.rules import summary_update
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
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    opp_by_deal = {str(d["id"]): str(d["properties"]["aws_opportunity_id"]).strip() for d in deals}
    opp_ids = sorted(set(opp_by_deal.values()))
    records = {
        str(rec["Id"]): rec
        for rec, _, _ in fetch_opportunity_snapshot(
            pc, store, start, start + dt.timedelta(days=1), {o: today for o in opp_ids}, {}, scope_ids=opp_ids
        )
    }

    rows: dict[str, SummaryRow] = {}
    updates: dict[str, tuple[dict[str, Any], dict[str, str | None], list[NoteSpec]]] = {}
    for deal in deals:
        deal_id, props = str(deal["id"]), dict(deal.get("properties") or {})
        opp_id = opp_by_deal[deal_id]
        row = rows[deal_id] = SummaryRow(deal_id, opp_id, RowStatus.UNCHANGED)
        opp = records.get(opp_id)
        if opp is None:
            row.status = RowStatus.FAILED
            row.errors.append(f"aws_opportunity_id {opp_id} is not an opportunity in catalog {pc.catalog}")
            continue
        summary: dict[str, Any] | None
        try:
            summary = to_jsonable(pc.get_aws_opportunity_summary(opp_id))
        except AccessDeniedError:
            raise
        except PartnerCentralError as exc:
            summary = None
            row.errors.append(f"GetAwsOpportunitySummary {opp_id}: {exc}")
        mapped = opportunity_to_deal_properties(opp, summary, config, props.get("pipeline"))
        update = summary_update(deal_id, props, opp, summary, mapped)
        row.review_status = (opp.get("LifeCycle") or {}).get("ReviewStatus")
        row.engagement_score = ((summary or {}).get("Insights") or {}).get("EngagementScore")
        row.changed_properties = sorted(update.properties)
        updates[deal_id] = (props, update.properties, update.notes)

    have = existing_note_keys(hs, updates)
    for deal_id, (_, _, notes) in updates.items():
        snap_notes, errors = new_snapshot_notes(pc, rows[deal_id].opportunity_id, have.get(deal_id, set()))
        notes.extend(snap_notes)
        rows[deal_id].snapshot_notes = len(snap_notes)
        rows[deal_id].errors.extend(errors)

    if notify_tasks:
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

    note_writes = [
        DealWrite(
            deal_id=d,
            entity_key=f"deal:{d}",
            partition_date=today,
            final_status=RowStatus.WRITTEN,
            notes=notes,
        )
        for d, (_, _, notes) in updates.items()
        if notes
    ]
    note_failed: set[str] = set()
    for write, outcome, written, error in write_deals(hs, note_writes, now):
        rows[write.deal_id].notes_written += written
        if outcome == RowStatus.FAILED:
            note_failed.add(write.deal_id)
            rows[write.deal_id].errors.append(str(error))

    # A deal whose notes failed keeps its old values, so the next run sees the same transitions again.
    prop_writes = [
        DealWrite(
            deal_id=d,
            entity_key=f"deal:{d}",
            partition_date=today,
            final_status=RowStatus.WRITTEN,
            properties=dict(properties),
        )
        for d, (_, properties, _) in updates.items()
        if properties and d not in note_failed
    ]
    prop_failed: set[str] = set()
    for write, outcome, _, error in write_deals(hs, prop_writes, now):
        if outcome == RowStatus.FAILED:
            prop_failed.add(write.deal_id)
            rows[write.deal_id].errors.append(str(error))

    for deal_id, row in rows.items():
        if row.status == RowStatus.FAILED:
            continue
        if deal_id in note_failed or deal_id in prop_failed:
            row.status, row.changed_properties = RowStatus.FAILED, []
        elif row.changed_properties or row.notes_written or row.tasks_written:
            row.status = RowStatus.WRITTEN
    return [rows[str(d["id"])] for d in deals]


def summaries_jsonable(rows: Sequence[SummaryRow]) -> list[Mapping[str, Any]]:
    return [to_jsonable(r.as_dict()) for r in rows]
