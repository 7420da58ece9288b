"""HubSpot look-ups and writes the co-sell flows share, always batched.

- deals by a property value (search, `IN` filters of at most 100 values, paged);
- companies by domain (search) and contacts by email (batch read with `idProperty=email`, which is
  exact and not subject to the search index lag), created in batches when missing;
- HubSpot tasks for deal owners, created with their deal association in the same call and exactly
  once: each task body ends with a marker line holding the notification key, and keys already on
  the deal's tasks are skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.hubspot.batch import BatchResult
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.notes import NoteSpec

log = logging.getLogger(__name__)

IN_FILTER_MAX = 100
DEAL_TO_COMPANY_PRIMARY = 5
DEAL_TO_CONTACT = 3
CONTACT_TO_COMPANY = 279  # unlabeled: never displaces a contact's existing primary company
TASK_TO_DEAL = 216
TASK_KEY_PREFIX = "hspc-key: "
_TASK_KEY = re.compile(r"hspc-key: ([^\s<]+)")


def hubspot_time(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _chunks(values: Sequence[str], size: int = IN_FILTER_MAX) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def search_by_values(
    client: HubSpotClient,
    object_type: str,
    prop: str,
    values: Iterable[str],
    properties: Sequence[str],
    extra_filters: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Objects whose `prop` is one of `values` (one filter group per 100 values, paged)."""
    wanted = sorted({v for v in values if v})
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(wanted):
        group = {"filters": [{"propertyName": prop, "operator": "IN", "values": chunk}, *extra_filters]}
        for obj in client.search_objects(object_type, [group], properties):
            out[str(obj["id"])] = obj
    return list(out.values())


def deals_by_properties(
    client: HubSpotClient, lookups: Mapping[str, Iterable[str]], properties: Sequence[str]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(property, value) -> deals carrying it, for several properties (e.g. aws_opportunity_id and
    aws_invitation_id); the oldest deal first."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for prop, values in lookups.items():
        for deal in search_by_values(client, "deals", prop, values, [*properties, prop]):
            value = (deal.get("properties") or {}).get(prop)
            if value:
                found.setdefault((prop, str(value)), []).append(deal)
    for deals in found.values():
        deals.sort(key=lambda d: int(str(d["id"])) if str(d["id"]).isdigit() else 0)
    return found


@dataclass
class CreatedOrFound:
    ids: dict[str, str]  # natural key (domain, email) -> HubSpot id
    created: list[str]
    errors: dict[str, str]  # natural key -> why it could not be created


def companies_by_domain(client: HubSpotClient, wanted: Mapping[str, Mapping[str, Any]]) -> CreatedOrFound:
    """Find companies by domain (lower-case) and create the missing ones in one batch.

    wanted: domain -> company properties to create it with."""
    domains = sorted({d.lower() for d in wanted if d})
    ids: dict[str, str] = {}
    for company in search_by_values(client, "companies", "domain", domains, ["domain", "name"]):
        domain = str((company.get("properties") or {}).get("domain") or "").lower()
        if domain and domain not in ids:
            ids[domain] = str(company["id"])
    missing = [d for d in domains if d not in ids]
    created: list[str] = []
    errors: dict[str, str] = {}
    if missing:
        inputs = [{"properties": _clean({**wanted[d], "domain": d})} for d in missing]
        result = client.batch_create("companies", inputs)
        _assign(result, missing, "domain", ids, created, errors, "company")
    return CreatedOrFound(ids=ids, created=created, errors=errors)


def contacts_by_email(client: HubSpotClient, wanted: Mapping[str, Mapping[str, Any]]) -> CreatedOrFound:
    """Find contacts by email (batch read, idProperty=email) and create the missing ones in one batch."""
    emails = sorted({e.strip().lower() for e in wanted if e and e.strip()})
    ids: dict[str, str] = {}
    if emails:
        existing = client.batch_read("contacts", emails, ["email"], id_property="email")
        for contact in existing.results:
            email = str((contact.get("properties") or {}).get("email") or "").lower()
            if email:
                ids[email] = str(contact["id"])
    missing = [e for e in emails if e not in ids]
    created: list[str] = []
    errors: dict[str, str] = {}
    if missing:
        by_lower = {k.strip().lower(): v for k, v in wanted.items() if k}
        inputs = [{"properties": _clean({**by_lower[e], "email": e})} for e in missing]
        result = client.batch_create("contacts", inputs)
        _assign(result, missing, "email", ids, created, errors, "contact")
    return CreatedOrFound(ids=ids, created=created, errors=errors)


def _assign(
    result: BatchResult,
    keys: list[str],
    key_prop: str,
    ids: dict[str, str],
    created: list[str],
    errors: dict[str, str],
    what: str,
) -> None:
    """Pin created records to their natural keys by the key property's value (exact, order-free)."""
    failed = result.failed_positions()
    by_value = {str((r.get("properties") or {}).get(key_prop) or "").lower(): r for r in result.results}
    for pos, key in enumerate(keys):
        record = by_value.get(key)
        if record is not None:
            ids[key] = str(record["id"])
            created.append(key)
        else:
            errors[key] = (
                f"{what} {key_prop}={key!r} not created: {failed.get(pos, 'HubSpot returned no record')}"
            )


def _clean(props: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in props.items() if v not in (None, "") and k != "hs_object_id"}


def existing_task_keys(client: HubSpotClient, deal_ids: Iterable[str]) -> dict[str, set[str]]:
    """Notification keys already carried by each deal's tasks."""
    ids = sorted(set(deal_ids))
    if not ids:
        return {}
    tasks_by_deal = client.batch_read_associations("deals", "tasks", ids)
    task_ids = sorted({t for ts in tasks_by_deal.values() for t in ts})
    keys_by_task: dict[str, str] = {}
    if task_ids:
        for task in client.batch_read("tasks", task_ids, ["hs_task_body"]).results:
            match = _TASK_KEY.search(str((task.get("properties") or {}).get("hs_task_body") or ""))
            if match:
                keys_by_task[str(task["id"])] = match.group(1)
    return {d: {k for t in tasks_by_deal.get(d, []) if (k := keys_by_task.get(t))} for d in ids}


def create_tasks_once(
    client: HubSpotClient, wanted: Sequence[tuple[str, NoteSpec, str | None]], now: dt.datetime | None = None
) -> tuple[dict[str, int], dict[str, str]]:
    """Tasks (deal id, notification, owner id) not yet on their deal; returns (created by deal, errors by deal)."""
    if not wanted:
        return {}, {}
    have = existing_task_keys(client, (d for d, _, _ in wanted))
    stamp = hubspot_time(now)
    inputs: list[dict[str, Any]] = []
    owners: list[str] = []
    for deal_id, note, owner in wanted:
        keys = have.setdefault(deal_id, set())
        if note.key in keys:
            continue
        keys.add(note.key)
        subject = note.body.splitlines()[0][:250] if note.body else "AWS Partner Central update"
        props = {
            "hs_task_subject": subject,
            "hs_task_body": f"{note.body}\n\n{TASK_KEY_PREFIX}{note.key}",
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": "HIGH",
            "hs_task_type": "TODO",
            "hs_timestamp": stamp,
        }
        if owner:
            props["hubspot_owner_id"] = owner
        inputs.append(
            {
                "properties": props,
                "associations": [
                    {
                        "to": {"id": deal_id},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_DEAL}
                        ],
                    }
                ],
            }
        )
        owners.append(deal_id)
    if not inputs:
        return {}, {}
    result = client.batch_create("tasks", inputs)
    failed = result.failed_positions()
    errors = {owners[p]: f"task not created: {msg}" for p, msg in failed.items()}
    created: dict[str, int] = {}
    for pos, deal_id in enumerate(owners):
        if pos not in failed:
            created[deal_id] = created.get(deal_id, 0) + 1
    return created, errors
