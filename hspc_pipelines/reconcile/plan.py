"""The sync plan: one row per entity saying what the apply steps must do and why.

Pure: snapshots in, decisions out. Identity is `aws_opportunity_id` on the deal and
PartnerOpportunityIdentifier on the opportunity; each mapped field has one owner, so a converged pair
plans `none` and a second run writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from hspc_pipelines.hubspot.notes import NoteSpec, review_note, title_blocked_note
from hspc_pipelines.mapping import (
    DealBundle,
    FieldError,
    MappingConfig,
    build_create_request,
    is_cosell,
    opportunity_to_deal_properties,
)
from hspc_pipelines.mapping.build import Body, build_body
from hspc_pipelines.mapping.reverse import RecordWrites
from hspc_pipelines.mapping.update import plan_update
from hspc_pipelines.mapping.values import dig, string_member
from hspc_pipelines.mapping.view import diff_views as diff_views  # re-exported: apply.py uses it
from hspc_pipelines.mapping.vocabulary import LOCKED_REVIEW_STATUSES, Operation, ReviewStatus, SyncStatus
from hspc_pipelines.partner_central.records import StoredRecord, record_id
from hspc_pipelines.reconcile.merge import Base, conflict_note, conflict_reason, merge_pair
from hspc_pipelines.reconcile.settled import Settled, context_digest, pair_fingerprint
from hspc_pipelines.solutions.sync import plan_pair_solutions

IN_SYNC = "in sync"


@dataclass(frozen=True)
class DealSnapshot:
    bundle: DealBundle
    partition_date: str
    archived: bool = False


@dataclass(frozen=True)
class DealText:
    """A stored deal as its frame row holds it: the key columns and the JSON texts (undecoded)."""

    deal_id: str
    partition_date: str
    linked_id: str | None  # the aws_opportunity_id column
    archived: bool
    deal: str | None
    company: str | None
    contacts: str | None


@runtime_checkable
class StoredDeals(Protocol):
    """Deals kept as frame rows (`frames.DealSnapshots`): each decoded on request, or read as text."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> DealSnapshot: ...

    def text(self, index: int) -> DealText: ...


@dataclass
class PlanRow:
    entity_key: str
    partition_date: str
    operation: Operation
    reason: str
    deal_id: str | None = None
    opportunity_id: str | None = None
    changed_fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    request: dict[str, Any] | None = None
    deal_updates: dict[str, str | None] = field(default_factory=dict)
    deal_current: dict[str, str | None] = field(default_factory=dict)
    notes: list[NoteSpec] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    solution_ids: list[str] = field(default_factory=list)
    # Set on a pair that planned `none` in full: what the state store keeps so that the next plan
    # can skip the pair while its inputs stay the same (`reconcile/settled.py`). Not a plan-frame column.
    settled: Settled | None = field(default=None, compare=False)
    skipped: bool = field(default=False, compare=False)  # planned from `settled`, not mapped
    # Fields both sides changed since their base, with the side that won (`merge.FieldConflict.as_dict`).
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    # The pair's new base (`reconcile/merge.py`) when this plan saw fields agree; kept by `base_store`.
    base: dict[str, Any] | None = field(default=None, compare=False)
    # Partner Central's edits of what the deal's company and contacts hold (the merge): batch updates
    # `{"object_type": "companies" | "contacts", "id", "properties"}`, only the values that differ.
    record_updates: list[dict[str, Any]] = field(default_factory=list)


def _blank(value: Any) -> Any:
    return None if value in ("", None) else value


def property_changes(
    current: Mapping[str, str | None], wanted: Mapping[str, str | None]
) -> dict[str, str | None]:
    """The deal properties whose value must change; '' and None are the same empty value."""
    return {k: v for k, v in wanted.items() if _blank(current.get(k)) != _blank(v)}


def format_errors(errors: Sequence[FieldError]) -> list[str]:
    return [str(e) for e in errors]


class _StaleKeys(Exception):
    """A stored record's key columns do not match the record: plan again from decoded records."""


class _OpportunityIndex:
    """Opportunities by Id and by the deal their identifier names.

    Records stored as JSON (`StoredRecord`) are indexed by their key columns and decoded only when a
    deal finds them (`find` returns the decoded dict); `verify_rest` decodes the ones no deal found,
    so that every key is checked against its record once."""

    def __init__(self, opportunities: Iterable[Mapping[str, Any]], prefix: str) -> None:
        self.by_id: dict[str, Mapping[str, Any]] = {}
        self.by_deal: dict[str, Mapping[str, Any]] = {}
        self.verified: set[int] = set()
        for opp in opportunities:
            if isinstance(opp, StoredRecord):
                ident = opp.partner_opportunity_identifier or ""
            else:
                ident = opp.get("PartnerOpportunityIdentifier") or ""
            self.by_id[record_id(opp)] = opp
            if ident.startswith(prefix):
                self.by_deal.setdefault(ident[len(prefix) :], opp)

    def find(self, deal_id: str, linked_id: str | None) -> Mapping[str, Any] | None:
        found = self.find_stored(deal_id, linked_id)
        return self.record(found) if found is not None else None

    def find_stored(self, deal_id: str, linked_id: str | None) -> Mapping[str, Any] | None:
        """What `find` finds, not decoded."""
        return self.by_id.get(linked_id) if linked_id else self.by_deal.get(deal_id)

    def record(self, opp: Mapping[str, Any]) -> Mapping[str, Any]:
        """The record itself: a stored one decoded (and its keys checked)."""
        if not isinstance(opp, StoredRecord):
            return opp
        record = opp.decode()
        if not opp.keys_match(record):
            raise _StaleKeys(opp.opportunity_id)
        self.verified.add(id(opp))
        return record  # type: ignore[no-any-return]

    def verify_rest(self, opportunities: Iterable[Mapping[str, Any]]) -> None:
        for opp in opportunities:
            if isinstance(opp, StoredRecord) and id(opp) not in self.verified:
                self.record(opp)


def _sync_state(row: PlanRow, status: SyncStatus, error: str | None) -> None:
    row.deal_updates.update(
        property_changes(row.deal_current, {"aws_sync_status": status.value, "aws_sync_error": error})
    )


def _merge(
    row: PlanRow, snap: DealSnapshot, opp: Mapping[str, Any], config: MappingConfig, base: Base | None
) -> tuple[MappingConfig, Body | None]:
    """The three-way merge of the pair (`reconcile/merge.py`): the configuration that makes each
    differing field go the way the merge decided, and the deal's body (mapped once for the plan);
    conflicts noted once on the deal."""
    try:
        body = build_body(snap.bundle, config)
    except Exception:  # noqa: BLE001 - plan_update maps it again and turns the error into an invalid row
        return config, None
    decision = merge_pair(snap.bundle, body, opp, base, config)
    row.base = decision.new_base(base)
    if decision.conflicts:
        row.conflicts = [c.as_dict() for c in decision.conflicts]
        row.notes.append(conflict_note(str(opp["Id"]), decision.conflicts))
    decision.keep_partner_central(body, opp)
    _record_writes(row, snap.bundle, decision.writes)
    return decision.effective_config(config), body


def _record_writes(row: PlanRow, bundle: DealBundle, writes: RecordWrites) -> None:
    """The merge's writes to HubSpot: deal properties with the row's other deal updates, the company's
    and the contacts' as batch updates; only values that differ from what the snapshot read."""
    row.deal_updates.update(property_changes(bundle.deal, writes.deal))
    company = bundle.company or {}
    changed = property_changes(company, writes.company)
    if changed and company.get("hs_object_id"):
        row.record_updates.append(
            {"object_type": "companies", "id": str(company["hs_object_id"]), "properties": changed}
        )
    contacts = {str(c.get("hs_object_id")): c for c in bundle.contacts}
    for contact_id, props in sorted(writes.contacts.items()):
        changed = property_changes(contacts.get(contact_id) or {}, props)
        if changed:
            row.record_updates.append({"object_type": "contacts", "id": contact_id, "properties": changed})


def _plan_existing(
    row: PlanRow,
    snap: DealSnapshot,
    opp: Mapping[str, Any],
    config: MappingConfig,
    catalog: str,
    base: Base | None = None,
) -> None:
    props = snap.bundle.deal
    opp_id = str(opp["Id"])
    row.opportunity_id = opp_id
    review = string_member(dig(opp, "LifeCycle", "ReviewStatus")) or ReviewStatus.PENDING_SUBMISSION.value
    config, body = _merge(row, snap, opp, config, base)

    pc_owned = opportunity_to_deal_properties(opp, None, config, props.get("pipeline"))
    row.deal_updates.update(property_changes(props, pc_owned))
    note = review_note(opp_id, review, string_member(dig(opp, "LifeCycle", "ReviewComments")))
    if note and _blank(props.get("aws_review_status")) != review:
        row.notes.append(note)
    linking = _blank(props.get("aws_opportunity_id")) != opp_id

    # build_update_request, the view diff and the create request's title, with the deal mapped once
    update = plan_update(snap.bundle, opp, config, catalog, body)
    if update.errors:
        row.operation, row.errors = Operation.INVALID, format_errors(update.errors)
        row.reason = "deal fails validation: " + "; ".join(row.errors)
        _sync_state(row, SyncStatus.INVALID, "\n".join(row.errors))
        return
    row.warnings = list(update.warnings)
    if update.title_frozen is not None:
        wanted_title = update.wanted_title
        current_title = string_member(dig(opp, "Project", "Title")) or ""
        if wanted_title and wanted_title != current_title:
            row.notes.append(title_blocked_note(opp_id, current_title, wanted_title))
    changed = update.changed
    row.changed_fields = changed
    if changed and review in LOCKED_REVIEW_STATUSES:
        row.operation = Operation.BLOCKED
        row.reason = (
            f"opportunity is '{review}': ACE refuses updates during review; the change waits until it ends"
        )
        _sync_state(row, SyncStatus.BLOCKED, row.reason)
        return
    if changed:
        row.operation, row.request = Operation.UPDATE, update.request
        row.reason = "HubSpot-owned fields changed: " + ", ".join(changed)
        if row.conflicts:
            row.reason += "; " + conflict_reason(row.conflicts)
        return
    _sync_state(row, SyncStatus.SYNCED, None)
    if linking:
        row.operation, row.reason = (
            Operation.LINK,
            f"opportunity {opp_id} carries this deal's identifier; linking it",
        )
    elif row.deal_updates or row.notes or row.record_updates:
        records = [f"{u['object_type']}.{p}" for u in row.record_updates for p in sorted(u["properties"])]
        row.operation, row.reason = (
            Operation.WRITE_BACK,
            "Partner Central fields changed: " + ", ".join([*sorted(row.deal_updates), *records]),
        )
        if row.conflicts:
            row.reason += "; " + conflict_reason(row.conflicts)
    else:
        # Nothing to write: the row needs no copy of the deal (see `outcomes.deal_write_for`).
        row.operation, row.reason, row.deal_current = Operation.NONE, IN_SYNC, {}


def plan_deal(
    snap: DealSnapshot,
    index: _OpportunityIndex,
    config: MappingConfig,
    catalog: str,
    bases: Mapping[str, Base] | None = None,
) -> PlanRow | None:
    """The plan row for one deal, or None for a deal the product does not sync."""
    bundle, props = snap.bundle, snap.bundle.deal
    linked_id = _blank(props.get("aws_opportunity_id"))
    if not linked_id and not is_cosell(props, config):
        return None
    row = PlanRow(
        entity_key=f"deal:{bundle.deal_id}",
        partition_date=snap.partition_date,
        operation=Operation.NONE,
        reason="",
        deal_id=bundle.deal_id,
        deal_current=dict(props),
    )
    opp = index.find(bundle.deal_id, linked_id)  # decoded, when stored as JSON
    if snap.archived:
        row.opportunity_id = linked_id or (str(opp["Id"]) if opp else None)
        if opp is None:
            row.reason = "deal archived in HubSpot; no opportunity to close"
        else:
            row.operation = Operation.BLOCKED
            row.reason = (
                f"deal archived in HubSpot; opportunity {opp['Id']} is left open in Partner Central "
                "(close it as lost there or restore the deal)"
            )
        row.deal_current = {}
        return row
    if linked_id and opp is None:
        row.operation, row.opportunity_id = Operation.BLOCKED, linked_id
        row.reason = f"aws_opportunity_id {linked_id} is not an opportunity in catalog {catalog}"
        _sync_state(row, SyncStatus.BLOCKED, row.reason)
        return row
    if opp is not None:
        _plan_existing(row, snap, opp, config, catalog, (bases or {}).get(bundle.deal_id))
        plan_pair_solutions(row, props, opp)  # the deal's aws_solution_ids (solutions/sync.py)
        return row
    result = build_create_request(bundle, config, catalog)
    if result.errors or result.request is None:
        row.operation, row.errors = Operation.INVALID, format_errors(result.errors)
        row.reason = "deal fails validation: " + "; ".join(row.errors)
        _sync_state(row, SyncStatus.INVALID, "\n".join(row.errors))
        return row
    row.operation, row.request, row.warnings = Operation.CREATE, result.request, list(result.warnings)
    row.reason = "co-sell deal without an opportunity"
    return row


def plan_orphan_opportunity(opp: Mapping[str, Any], partition_date: str, config: MappingConfig) -> PlanRow:
    """An opportunity changed in the window whose deal is not in the deal snapshot.

    When its identifier names a deal, the Partner-Central-owned fields are written back to that deal
    (the writer reads the deal first and writes only what differs)."""
    opp_id = str(opp["Id"])
    ident = opp.get("PartnerOpportunityIdentifier") or ""
    prefix = config.partner_opportunity_prefix
    row = PlanRow(
        entity_key=f"opportunity:{opp_id}",
        partition_date=partition_date,
        operation=Operation.NONE,
        reason="no HubSpot deal carries this opportunity's identifier",
        opportunity_id=opp_id,
    )
    if ident.startswith(prefix) and ident[len(prefix) :].isdigit():
        row.deal_id = ident[len(prefix) :]
        row.operation = Operation.WRITE_BACK
        row.reason = "opportunity changed in Partner Central; deal outside the window is refreshed"
        row.deal_updates = dict(opportunity_to_deal_properties(opp, None, config, None))
        note = review_note(
            opp_id,
            string_member(dig(opp, "LifeCycle", "ReviewStatus")) or "",
            string_member(dig(opp, "LifeCycle", "ReviewComments")),
        )
        if note:
            row.notes.append(note)
    return row


def build_plan(
    deals: Iterable[DealSnapshot],
    opportunities: Iterable[Mapping[str, Any]],
    opportunity_partitions: Mapping[str, str],
    config: MappingConfig,
    catalog: str,
    settled: Mapping[str, Settled] | None = None,
    bases: Mapping[str, Base] | None = None,
) -> list[PlanRow]:
    """Plan every co-sell or linked deal, then the window's opportunities no deal accounted for.

    Opportunities may be `StoredRecord`s (`frames.opportunity_records`): each is decoded when its
    deal is planned and dropped after, so memory does not grow with decoded records. Should a stored
    record's key columns not match the record, the plan is made again from decoded records.

    With deals stored as frame rows (`StoredDeals`) and records as `StoredRecord`s, a pair whose
    fingerprint is in `settled` (deal id -> what an earlier plan recorded) gets that plan's `none`
    row without being mapped; each pair planned `none` in full carries its own `PlanRow.settled`.
    `bases` (deal id -> the fields both sides last agreed on) drives the three-way merge."""
    opp_list = list(opportunities)
    if not any(isinstance(opp, StoredRecord) for opp in opp_list):
        return _build_plan(deals, opp_list, opportunity_partitions, config, catalog, settled, bases)
    if not isinstance(deals, Sequence):
        deals = list(deals)  # iterated again if the stored keys turn out stale
    try:
        return _build_plan(deals, opp_list, opportunity_partitions, config, catalog, settled, bases)
    except _StaleKeys:
        decoded = [opp.decode() if isinstance(opp, StoredRecord) else opp for opp in opp_list]
        return _build_plan(deals, decoded, opportunity_partitions, config, catalog, None, bases)


class _Fingerprints:
    """Settled-pair fingerprints of one plan (`reconcile/settled.py`): the skip, and what to record."""

    def __init__(
        self, index: _OpportunityIndex, settled: Mapping[str, Settled], config: MappingConfig, catalog: str
    ) -> None:
        self.index, self.settled, self.context = index, settled, context_digest(config, catalog)

    def _of(self, text: DealText) -> tuple[StoredRecord, str] | None:
        if text.archived:
            return None
        opp = self.index.find_stored(text.deal_id, text.linked_id)
        if not isinstance(opp, StoredRecord):
            return None
        fingerprint = pair_fingerprint(
            self.context,
            text.deal_id,
            text.linked_id,
            text.deal,
            text.company,
            text.contacts,
            opp.opportunity_id,
            opp.partner_opportunity_identifier,
            opp.text,
        )
        return opp, fingerprint

    def skip(self, text: DealText) -> PlanRow | None:
        """The `none` row of a pair whose inputs are those of an earlier `none` plan, or None."""
        known = self.settled.get(text.deal_id)
        if known is None:
            return None
        found = self._of(text)
        if found is None or found[1] != known.fingerprint:
            return None
        opp, _ = found
        # The record's key columns were checked against it when this fingerprint was recorded, and
        # the fingerprint covers both: equal fingerprints mean they still match.
        self.index.verified.add(id(opp))
        return PlanRow(
            entity_key=f"deal:{text.deal_id}",
            partition_date=text.partition_date,
            operation=Operation.NONE,
            reason=IN_SYNC,
            deal_id=text.deal_id,
            opportunity_id=opp.opportunity_id,
            warnings=list(known.warnings),
            skipped=True,
        )

    def record(self, text: DealText, snap: DealSnapshot, row: PlanRow) -> None:
        """Give a pair that planned `none` in full the fingerprint of its inputs."""
        if (
            row.operation != Operation.NONE
            or _blank(snap.bundle.deal.get("aws_opportunity_id")) != text.linked_id
        ):
            return  # (the column must say what the plan read from the deal)
        found = self._of(text)
        if found is not None and found[0].opportunity_id == row.opportunity_id:
            row.settled = Settled(found[1], tuple(row.warnings))


def _build_plan(
    deals: Iterable[DealSnapshot],
    opp_list: list[Mapping[str, Any]],
    opportunity_partitions: Mapping[str, str],
    config: MappingConfig,
    catalog: str,
    settled: Mapping[str, Settled] | None,
    bases: Mapping[str, Base] | None = None,
) -> list[PlanRow]:
    index = _OpportunityIndex(opp_list, config.partner_opportunity_prefix)
    rows: list[PlanRow] = []
    seen_opps: set[str] = set()

    def add(row: PlanRow | None) -> None:
        if row is not None:
            rows.append(row)
            if row.opportunity_id:
                seen_opps.add(row.opportunity_id)

    if isinstance(deals, StoredDeals):
        prints = _Fingerprints(index, settled or {}, config, catalog)
        for i in range(len(deals)):
            text = deals.text(i)
            skipped = prints.skip(text)
            if skipped is not None:
                add(skipped)
                continue
            snap = deals[i]
            row = plan_deal(snap, index, config, catalog, bases)
            if row is not None:
                prints.record(text, snap, row)
            add(row)
    else:
        for snap in deals:
            add(plan_deal(snap, index, config, catalog, bases))
    for opp in opp_list:
        opp_id = record_id(opp)
        if opp_id not in seen_opps and opp_id in opportunity_partitions:
            rows.append(plan_orphan_opportunity(index.record(opp), opportunity_partitions[opp_id], config))
    index.verify_rest(opp_list)
    return rows
