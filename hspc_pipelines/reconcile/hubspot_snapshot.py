"""Snapshot of HubSpot deals with their companies and contacts, in batches.

A window of N co-sell deals costs about N/200 searches, 2·N/1000 association reads and
(companies + contacts)/100 batch reads: never one call per deal.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hspc_pipelines.hubspot.batch import BatchResult
from hspc_pipelines.mapping import DealBundle, MappingConfig, is_cosell
from hspc_pipelines.mapping.properties import COMPANY_PROPERTIES, CONTACT_PROPERTIES, DEAL_PROPERTIES
from hspc_pipelines.reconcile.frames import day
from hspc_pipelines.reconcile.merge import FIELD_SOURCES, PROPERTY_TIMESTAMPS
from hspc_pipelines.reconcile.plan import DealSnapshot

if TYPE_CHECKING:  # the client's own signatures; a copy of them here would drift
    from hspc_pipelines.hubspot.client import HubSpotClient

# How far before its window a run searches: more than HubSpot's index lag (seconds), so nothing written
# just before a window's end is missed when the next window's run comes after midnight.
SEARCH_INDEX_LAG_MARGIN = dt.timedelta(minutes=5)
PRIMARY_COMPANY_TYPE_ID = 5  # HubSpot's "Primary" deal-to-company association


def _partition_for(last_modified: str | None, start: dt.datetime, end: dt.datetime) -> str:
    """The day a deal is filed under: its change day, clamped into the run's window."""
    first, last = start.date(), (end - dt.timedelta(microseconds=1)).date()
    try:
        when = dt.date.fromisoformat(day(last_modified)) if last_modified else last
    except ValueError:
        when = last
    return min(max(when, first), last).isoformat()


def _primary_company(links: list[dict[str, Any]]) -> str | None:
    for link in links:
        if PRIMARY_COMPANY_TYPE_ID in link.get("type_ids", ()):
            return str(link["id"])
    return str(links[0]["id"]) if links else None


def fetch_deal_snapshots(
    client: HubSpotClient,
    config: MappingConfig,
    start: dt.datetime,
    end: dt.datetime,
    deal_ids: Sequence[str] | None = None,
) -> list[DealSnapshot]:
    """Co-sell or linked deals changed in [start, end), or exactly `deal_ids` (event-scoped runs).

    Event-scoped reads include archived deals, so a deletion reaches the plan."""
    if deal_ids is not None:
        live = client.batch_read("deals", list(deal_ids), DEAL_PROPERTIES).results
        missing = [d for d in deal_ids if d not in {str(o["id"]) for o in live}]
        archived = (
            client.batch_read("deals", missing, DEAL_PROPERTIES, archived=True).results if missing else []
        )
        deals = [(o, False) for o in live] + [(o, True) for o in archived]
    else:
        deals = _searched_deals(client, config, start, end)
    selected = [(o, arch) for o, arch in deals if _selected(o["properties"], config)]
    ids = [str(o["id"]) for o, _ in selected]
    companies_by_deal = client.batch_read_associations_detailed("deals", "companies", ids) if ids else {}
    contacts_by_deal = client.batch_read_associations_detailed("deals", "contacts", ids) if ids else {}
    company_ids = {d: _primary_company(companies_by_deal.get(d, [])) for d in ids}
    contact_ids = {d: [str(link["id"]) for link in contacts_by_deal.get(d, [])] for d in ids}
    companies = _by_id(
        client.batch_read("companies", sorted({c for c in company_ids.values() if c}), COMPANY_PROPERTIES)
    )
    contacts = _by_id(
        client.batch_read(
            "contacts", sorted({c for cs in contact_ids.values() for c in cs}), CONTACT_PROPERTIES
        )
    )
    deal_stamps: dict[str, str] = {}
    company_stamps: dict[str, str] = {}
    if config.conflict_policy == "newest":
        linked = [
            str(o["id"]) for o, arch in selected if not arch and o["properties"].get("aws_opportunity_id")
        ]
        deal_stamps = property_timestamps(client, "deals", linked, HISTORY_PROPERTIES["deal"])
        wanted = sorted({c for d, c in company_ids.items() if c and d in set(linked)})
        company_stamps = property_timestamps(client, "companies", wanted, HISTORY_PROPERTIES["company"])
    snapshots = []
    for obj, is_archived in selected:
        deal_id = str(obj["id"])
        props = dict(obj["properties"])
        if deal_id in deal_stamps:
            props[PROPERTY_TIMESTAMPS] = deal_stamps[deal_id]
        company_id = company_ids.get(deal_id)
        company = dict(companies[company_id]) if company_id and company_id in companies else None
        if company is not None:
            company["hs_object_id"] = company_id
            if company_id in company_stamps:
                company[PROPERTY_TIMESTAMPS] = company_stamps[company_id]
        bundle = DealBundle(
            deal_id=deal_id,
            deal=props,
            company=company,
            contacts=[dict(contacts[c]) for c in contact_ids.get(deal_id, []) if c in contacts],
        )
        snapshots.append(
            DealSnapshot(
                bundle=bundle,
                archived=is_archived,
                partition_date=_partition_for(props.get("hs_lastmodifieddate"), start, end),
            )
        )
    return snapshots


def _history_properties() -> dict[str, tuple[str, ...]]:
    out: dict[str, set[str]] = {"deal": {"aws_industry"}, "company": set()}
    for kind, props in FIELD_SOURCES.values():
        if kind in out:
            out[kind].update(props)
    return {k: tuple(sorted(v)) for k, v in out.items()}


# The properties whose history `conflict_policy: newest` reads, per record.
HISTORY_PROPERTIES = _history_properties()


def property_timestamps(
    client: HubSpotClient, object_type: str, ids: Sequence[str], properties: Sequence[str]
) -> dict[str, str]:
    """Object id -> JSON {property: when its newest version was written} (batch reads with
    `propertiesWithHistory`, 100 ids a call): what `merge.hubspot_changed_at` compares with
    Partner Central's `LastModifiedDate`. A property never set has no entry."""
    if not ids:
        return {}
    out = {}
    for obj in client.batch_read(
        object_type, ids, ["hs_object_id"], properties_with_history=properties
    ).results:
        stamps = {}
        for name, versions in (obj.get("propertiesWithHistory") or {}).items():
            times = [
                str(v["timestamp"]) for v in versions or [] if isinstance(v, Mapping) and v.get("timestamp")
            ]
            if times:
                stamps[name] = max(times, key=_epoch)
        out[str(obj["id"])] = json.dumps(stamps, sort_keys=True)
    return out


def _epoch(stamp: str) -> float:
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float(stamp) / 1000 if stamp.isdigit() else 0.0


def _searched_deals(
    client: HubSpotClient, config: MappingConfig, start: dt.datetime, end: dt.datetime
) -> list[tuple[dict[str, Any], bool]]:
    """Deals changed in the window, the unlinked ones as they are now.

    HubSpot's search index lags writes by seconds: the search starts SEARCH_INDEX_LAG_MARGIN before the
    window, so a deal changed just before the previous window's end (midnight) but indexed after that
    window's run is found by this one. A search answers the values it indexed: a co-sell deal it shows
    without `aws_opportunity_id` may have been linked a moment ago (an invitation adopting it, to an
    opportunity AWS created), and creating for it would duplicate that opportunity; those deals are read
    again by id (linked deals are not: a stale value there costs one update, put right by the next run)."""
    found = list(
        client.search_modified_between("deals", start - SEARCH_INDEX_LAG_MARGIN, end, DEAL_PROPERTIES)
    )
    unlinked = {
        str(o["id"])
        for o in found
        if not o["properties"].get("aws_opportunity_id") and _selected(o["properties"], config)
    }
    if not unlinked:
        return [(o, False) for o in found]
    fresh = {str(o["id"]): o for o in client.batch_read("deals", sorted(unlinked), DEAL_PROPERTIES).results}
    # a deal archived since the search is left out, as the next search would
    return [
        (fresh.get(str(o["id"]), o), False)
        for o in found
        if str(o["id"]) not in unlinked or str(o["id"]) in fresh
    ]


def _selected(props: Mapping[str, Any], config: MappingConfig) -> bool:
    return bool(props.get("aws_opportunity_id")) or is_cosell(props, config)


def _by_id(result: BatchResult) -> dict[str, Mapping[str, Any]]:
    return {str(o["id"]): o["properties"] for o in result.results}
