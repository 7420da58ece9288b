"""Write sync outcomes to HubSpot deals in batches, and notes exactly once.

Deal properties go out through batch/update (100 a call), only the values that differ. Notes carry
their key in `hspc_note_key` and are created with their deal association in the same call, so a
note exists on the deal or not at all; keys a deal already has are skipped, which makes re-runs and
crash recovery write nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from hspc_pipelines.hubspot.notes import NoteSpec
from hspc_pipelines.mapping.properties import DEAL_PROPERTIES, NOTE_KEY_PROPERTY
from hspc_pipelines.mapping.vocabulary import RowStatus
from hspc_pipelines.reconcile.outcomes import DealWrite
from hspc_pipelines.reconcile.plan import property_changes

if TYPE_CHECKING:  # the client's own signatures; a copy of them here would drift
    from hspc_pipelines.hubspot.client import HubSpotClient

NOTE_TO_DEAL_TYPE_ID = 214  # HubSpot-defined note -> deal association


Outcome = tuple[DealWrite, RowStatus, int, str | None]  # write, write status, notes written, error


def _wire(value: str | None) -> str:
    """HubSpot clears a property with an empty string."""
    return "" if value is None else str(value)


def _refresh_without_snapshot(client: HubSpotClient, writes: list[DealWrite]) -> dict[str, str]:
    """Diff writes that had no deal snapshot against the deal as it is now; returns errors by deal id."""
    blind = [w for w in writes if not w.has_current]
    if not blind:
        return {}
    result = client.batch_read("deals", sorted({w.deal_id for w in blind}), DEAL_PROPERTIES)
    current = {str(o["id"]): o["properties"] for o in result.results}
    errors = {}
    for w in blind:
        if w.deal_id not in current:
            errors[w.deal_id] = f"deal {w.deal_id} not found in HubSpot"
            continue
        w.properties = property_changes(current[w.deal_id], w.properties)
        w.has_current = True
    return errors


def existing_note_keys(client: HubSpotClient, deal_ids: Iterable[str]) -> dict[str, set[str]]:
    """Note keys already on each deal."""
    ids = sorted(set(deal_ids))
    if not ids:
        return {}
    notes_by_deal = client.batch_read_associations("deals", "notes", ids)
    note_ids = sorted({n for ns in notes_by_deal.values() for n in ns})
    keys_by_note = {}
    if note_ids:
        notes = client.batch_read("notes", note_ids, [NOTE_KEY_PROPERTY])
        keys_by_note = {str(o["id"]): o["properties"].get(NOTE_KEY_PROPERTY) for o in notes.results}
    return {d: {k for n in notes_by_deal.get(d, []) if (k := keys_by_note.get(n))} for d in ids}


def _note_input(deal_id: str, note: NoteSpec, now: str) -> dict[str, Any]:
    return {
        "properties": {"hs_note_body": note.body, "hs_timestamp": now, NOTE_KEY_PROPERTY: note.key},
        "associations": [
            {
                "to": {"id": deal_id},
                "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_DEAL_TYPE_ID}
                ],
            }
        ],
    }


def _write_records(client: HubSpotClient, writes: Sequence[DealWrite], errors: dict[str, str]) -> set[str]:
    """The companies' and contacts' updates (Partner Central's edits the merge gave them), one batch
    update per object type (100 a call); a failed record fails the deals that wanted it. Returns the
    deals whose record a portal's required-property rule refused (invalid, not failed)."""
    refused: set[str] = set()
    by_type: dict[str, dict[str, dict[str, str]]] = {}
    wanted_by: dict[tuple[str, str], list[str]] = {}
    for w in writes:
        if w.deal_id in errors:
            continue
        for record in w.records:
            key = (str(record["object_type"]), str(record["id"]))
            props = {k: _wire(v) for k, v in dict(record["properties"]).items()}
            by_type.setdefault(key[0], {}).setdefault(key[1], {}).update(props)
            wanted_by.setdefault(key, []).append(w.deal_id)
    for object_type, inputs in by_type.items():
        result = client.batch_update(object_type, [{"id": i, "properties": p} for i, p in inputs.items()])
        by_rule = {str(f.id) for f in result.errors if f.rule is not None}
        for record_id, reason in result.failed_ids().items():
            for deal_id in wanted_by.get((object_type, str(record_id)), []):
                errors.setdefault(deal_id, f"{object_type} {record_id} not updated: {reason}")
                if str(record_id) in by_rule:
                    refused.add(deal_id)
    return refused


def write_deals(
    client: HubSpotClient, writes: Sequence[DealWrite], now: dt.datetime | None = None
) -> list[Outcome]:
    """Apply every write; one deal's failure never stops the others."""
    writes = list(writes)
    errors: dict[str, str] = _refresh_without_snapshot(client, writes)

    # Notes first: a note's plan depends on the deal property it reports (e.g. aws_review_status), so
    # writing the property first and crashing before the note would lose the note for good. Notes are
    # keyed, so a crash after them only repeats the property write.
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    wanting_notes = [w for w in writes if w.notes and w.deal_id not in errors]
    have = existing_note_keys(client, (w.deal_id for w in wanting_notes))
    note_inputs: list[dict[str, Any]] = []
    note_owner: list[str] = []
    for w in wanting_notes:
        for note in w.notes:
            if note.key not in have.setdefault(w.deal_id, set()):
                have[w.deal_id].add(note.key)
                note_inputs.append(_note_input(w.deal_id, note, stamp))
                note_owner.append(w.deal_id)
    written_notes: dict[str, int] = {}
    if note_inputs:
        result = client.batch_create("notes", note_inputs)
        failed_positions = result.failed_positions()
        for pos, deal_id in enumerate(note_owner):
            if pos in failed_positions:
                errors.setdefault(deal_id, f"note not written: {failed_positions[pos]}")
            else:
                written_notes[deal_id] = written_notes.get(deal_id, 0) + 1

    # One input per deal: merge writes that target the same deal (a deal row and an orphan row).
    merged: dict[str, dict[str, str]] = {}
    for w in writes:
        if w.properties and w.deal_id not in errors:
            merged.setdefault(w.deal_id, {}).update({k: _wire(v) for k, v in w.properties.items()})
    refused: set[str] = set()  # deals a portal's required-property rule refused: invalid, not failed
    if merged:
        result = client.batch_update("deals", [{"id": d, "properties": p} for d, p in merged.items()])
        errors.update(result.failed_ids())
        refused = {str(f.id) for f in result.errors if f.rule is not None}
    refused |= _write_records(client, writes, errors)

    outcomes: list[Outcome] = []
    for w in writes:
        notes = written_notes.pop(w.deal_id, 0)
        if w.deal_id in errors:
            status = RowStatus.INVALID if w.deal_id in refused else RowStatus.FAILED
            outcomes.append((w, status, notes, errors[w.deal_id]))
        elif w.properties or notes or w.records:
            outcomes.append((w, RowStatus.WRITTEN, notes, None))
        else:
            outcomes.append((w, RowStatus.UNCHANGED, 0, None))
    return outcomes
