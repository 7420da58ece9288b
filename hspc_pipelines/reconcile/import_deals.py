"""Opportunities created in Partner Central become HubSpot deals (`import_rules` says which).

Crash-safe: the deal is created with `aws_opportunity_id` set in the same call, and before creating
the import looks the id up among the deals; a run killed between the create and the link back finds
the deal and links it, never making a second one. `aws_opportunity_id` is a unique-value property
(`hspc bootstrap`): the look-up is a batch read by it (`idProperty`), which sees a deal linked a moment
ago (search lags writes by seconds), and HubSpot refuses a second deal with the same id. A portal whose
property predates that (HubSpot cannot make an existing property unique) is looked up by search. Companies and contacts are found or created in
batches (`cosell.hubspot_ops`), as for invitations.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from hspc_pipelines.cosell.hubspot_ops import (
    DEAL_TO_COMPANY_PRIMARY,
    DEAL_TO_CONTACT,
    companies_by_domain,
    contacts_by_email,
    deals_by_properties,
)
from hspc_pipelines.cosell.steps import deal_name_with_tag, website_domain
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping import MappingConfig, opportunity_to_deal_properties, opportunity_to_new_deal
from hspc_pipelines.mapping.types import NewDeal
from hspc_pipelines.mapping.vocabulary import RowStatus, SyncStatus
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import AccessDeniedError, PartnerCentralError
from hspc_pipelines.partner_central.records import to_jsonable, with_timestamps
from hspc_pipelines.reconcile.import_rules import ImportRow, link_request
from hspc_pipelines.state.store import SyncStateStore

log = logging.getLogger(__name__)


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value).strip() or None


def _domain(company: Mapping[str, Any] | None) -> str | None:
    if not company:
        return None
    domain = _text(company.get("domain"))
    return domain.lower() if domain else website_domain(_text(company.get("website")))


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


LINK_PROPERTY = "aws_opportunity_id"


def deals_linking(hs: HubSpotClient, opp_ids: Sequence[str]) -> dict[str, str]:
    """Opportunity id -> the (oldest) deal carrying it: a batch read by the unique property, 100 ids a
    call, or a search when the portal's property is not unique."""
    definition = hs.get_property("deals", LINK_PROPERTY)
    if definition is not None and definition.get("hasUniqueValue"):
        found = hs.batch_read("deals", list(opp_ids), [LINK_PROPERTY], id_property=LINK_PROPERTY)
        return {
            str(value): str(d["id"])
            for d in found.results
            if (value := (d.get("properties") or {}).get(LINK_PROPERTY))
        }
    log.info("%s is not a unique-value property: deals are looked up by search", LINK_PROPERTY)
    existing = deals_by_properties(hs, {LINK_PROPERTY: sorted(opp_ids)}, [LINK_PROPERTY])
    return {value: str(deals[0]["id"]) for (_, value), deals in existing.items() if deals}


_EXISTING = re.compile(r"already exists\. Existing ID: (\d+)")


def _create(
    hs: HubSpotClient, new: Mapping[str, NewDeal], tag: str, linked: dict[str, str]
) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Create one deal per opportunity id with its company and contacts: (opp id -> deal id, opp id ->
    why it failed, the opp ids whose deal a portal's required-property rule refused); `linked` gets
    the deals HubSpot names as already carrying the id."""
    companies = companies_by_domain(
        hs, {d: n.company for n in new.values() if (d := _domain(n.company)) and n.company}
    )
    contacts = contacts_by_email(
        hs,
        {e.lower(): c for n in new.values() for c in n.contacts or [] if (e := _text(c.get("email")))},
    )
    inputs = []
    order = list(new)
    for opp_id in order:
        item = new[opp_id]
        deal = {k: str(v) for k, v in dict(item.deal).items() if v not in (None, "")}
        deal["dealname"] = deal_name_with_tag(_text(deal.get("dealname")), tag)
        deal["aws_opportunity_id"] = opp_id
        deal["aws_sync_status"] = SyncStatus.SYNCED.value
        assoc = []
        company_id = companies.ids.get(_domain(item.company) or "")
        if company_id:
            assoc.append(_association(company_id, DEAL_TO_COMPANY_PRIMARY))
        for contact in item.contacts or []:
            contact_id = contacts.ids.get((_text(contact.get("email")) or "").lower())
            if contact_id:
                assoc.append(_association(contact_id, DEAL_TO_CONTACT))
        inputs.append({"properties": deal, "associations": assoc})
    result = hs.batch_create("deals", inputs)
    failed = result.failed_positions()
    refused = {order[pos] for pos in result.refused_by_rules()}
    made = {str((d.get("properties") or {}).get("aws_opportunity_id")): str(d["id"]) for d in result.results}
    errors = {
        opp_id: str(failed.get(pos, "HubSpot returned no record"))
        for pos, opp_id in enumerate(order)
        if opp_id not in made
    }
    for opp_id, reason in list(errors.items()):
        # the unique aws_opportunity_id: a deal linked since the look-up (409 naming it) is linked
        found = _EXISTING.search(reason)
        if found:
            linked[opp_id] = found.group(1)
            del errors[opp_id]
    for problem in list(companies.errors.values()) + list(contacts.errors.values()):
        log.warning("imported opportunities: %s", problem)
    return made, errors, refused


def _new_deal(record: Mapping[str, Any], config: MappingConfig) -> NewDeal:
    """The deal, company and contacts of an opportunity, the deal with the Partner-Central-owned
    properties the write-back would add (so the next run has nothing to write)."""
    new = opportunity_to_new_deal(record, config, None)
    owned = opportunity_to_deal_properties(record, None, config, new.deal.get("pipeline"))
    return NewDeal(
        {**new.deal, **{k: v for k, v in owned.items() if v is not None}}, new.company, new.contacts
    )


def import_opportunities(
    hs: HubSpotClient,
    pc: PartnerCentralClient,
    store: SyncStateStore,
    config: MappingConfig,
    records: Sequence[Mapping[str, Any]],
) -> list[ImportRow]:
    """A deal for each record (`import_rules.import_candidates`), linked both ways. A deal that
    already carries the opportunity's id is linked instead of creating another."""
    if not records:
        return []
    by_id = {str(r["Id"]): r for r in records}
    existing = deals_linking(hs, sorted(by_id))
    deal_ids: dict[str, str] = {}
    statuses: dict[str, str] = {}
    for opp_id in by_id:
        if opp_id in existing:
            deal_ids[opp_id], statuses[opp_id] = existing[opp_id], RowStatus.LINKED
    new = {o: _new_deal(r, config) for o, r in by_id.items() if o not in deal_ids}
    errors: dict[str, str] = {}
    refused: set[str] = set()
    if new:
        raced: dict[str, str] = {}
        made, errors, refused = _create(hs, new, config.cosell_tag, raced)
        deal_ids.update(made)
        statuses.update(dict.fromkeys(made, RowStatus.CREATED))
        deal_ids.update(raced)
        statuses.update(dict.fromkeys(raced, RowStatus.LINKED))
    rows = []
    for opp_id, record in by_id.items():
        deal_id = deal_ids.get(opp_id)
        if deal_id is None:
            if opp_id in refused:  # the portal's rule, not a fault: invalid until data or rule changes
                rows.append(
                    ImportRow(opp_id, RowStatus.INVALID, reason=f"deal not created: {errors[opp_id]}")
                )
                continue
            reason = f"deal not created: {errors.get(opp_id)} (the next run retries)"
            rows.append(ImportRow(opp_id, RowStatus.FAILED, reason=reason))
            continue
        rows.append(_link_back(pc, store, config, record, deal_id, statuses[opp_id]))
    return rows


def _link_back(
    pc: PartnerCentralClient,
    store: SyncStateStore,
    config: MappingConfig,
    record: Mapping[str, Any],
    deal_id: str,
    status: str,
) -> ImportRow:
    """The deal's identifier onto the opportunity (the other half of the link)."""
    opp_id = str(record["Id"])
    request = link_request(record, deal_id, config, pc.catalog)
    if request is None:
        return ImportRow(
            opp_id, status, deal_id, False, "under review: the identifier goes with the pair's next update"
        )
    try:
        pc.update_opportunity(with_timestamps(request))
        store.put_opportunities(pc.catalog, [to_jsonable(pc.get_opportunity(opp_id))])
    except AccessDeniedError:
        raise
    except PartnerCentralError as exc:
        # The deal carries aws_opportunity_id: the pair is linked; the identifier follows on its next update.
        return ImportRow(opp_id, status, deal_id, False, f"identifier not written: {exc}")
    return ImportRow(opp_id, status, deal_id, True)
