"""Snapshot of Partner Central opportunities: the window's changes plus the deals' counterparts.

ListOpportunities summaries carry LastModifiedDate but not the title, problem statement or contacts,
so details come from GetOpportunity, and only for opportunities whose LastModifiedDate differs from
the record the state store already holds.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from hspc_pipelines.partner_central.records import to_jsonable
from hspc_pipelines.reconcile.frames import day
from hspc_pipelines.state.store import SyncStateStore

IDENTIFIER_FILTER_LIMIT = 20  # ListOpportunities accepts at most 20 ids per Identifier filter
PAGE_SIZE = 100


class PartnerCentralReader(Protocol):
    catalog: str

    def list_opportunities(
        self,
        after: dt.datetime | None = None,
        before: dt.datetime | None = None,
        identifiers: Sequence[str] | None = None,
    ) -> Iterable[dict[str, Any]]: ...

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]: ...


def _clamp(value: Any, start: dt.datetime, end: dt.datetime) -> str:
    first, last = start.date(), (end - dt.timedelta(microseconds=1)).date()
    when = dt.date.fromisoformat(day(value)) if value else last
    return min(max(when, first), last).isoformat()


def wanted_opportunities(
    deal_rows: Iterable[Mapping[str, Any]], prefix: str
) -> tuple[dict[str, str], dict[str, str]]:
    """(counterparts, candidate identifiers) of snapshot deal rows, for `fetch_opportunity_snapshot`:
    a linked deal's opportunity id, else its PartnerOpportunityIdentifier, -> the deal's partition day."""
    counterparts: dict[str, str] = {}
    candidates: dict[str, str] = {}
    for row in deal_rows:
        if row["aws_opportunity_id"]:
            counterparts[str(row["aws_opportunity_id"])] = row["partition_date"]
        else:
            candidates[f"{prefix}{row['deal_id']}"] = row["partition_date"]
    return counterparts, candidates


def fetch_opportunity_snapshot(
    client: PartnerCentralReader,
    store: SyncStateStore,
    start: dt.datetime,
    end: dt.datetime,
    counterparts: Mapping[str, str],
    candidate_identifiers: Mapping[str, str],
    scope_ids: Sequence[str] | None = None,
) -> list[tuple[dict[str, Any], str, str]]:
    """(record, partition day, source) for every opportunity the plan needs.

    counterparts: opportunity id -> partition day of the deal that links it.
    candidate_identifiers: PartnerOpportunityIdentifier -> partition day, for co-sell deals not yet
    linked; an opportunity this product created for one of them (write-back lost) is found here.
    scope_ids: event-scoped runs list exactly these opportunities instead of the window.
    """
    catalog = client.catalog
    wanted: dict[str, str] = dict(counterparts)
    for ident, opp_id in store.find_by_partner_identifiers(catalog, candidate_identifiers).items():
        wanted.setdefault(opp_id, candidate_identifiers[ident])

    summaries: dict[str, tuple[dict[str, Any], str, str]] = {}
    if scope_ids is None:
        for s in client.list_opportunities(after=start, before=end):
            summaries[str(s["Id"])] = (s, _clamp(s.get("LastModifiedDate"), start, end), "window")
    else:
        for s in _list_by_ids(client, list(scope_ids)):
            summaries[str(s["Id"])] = (s, _clamp(None, start, end), "window")

    missing = [opp_id for opp_id in wanted if opp_id not in summaries]
    if missing:
        by_id_calls = math.ceil(len(missing) / IDENTIFIER_FILTER_LIMIT)
        full_listing_calls = math.ceil(max(store.count_opportunities(catalog), 1) / PAGE_SIZE)
        # List everything when that is cheaper than asking 20 ids at a time.
        found = (
            client.list_opportunities() if full_listing_calls < by_id_calls else _list_by_ids(client, missing)
        )
        missing_set = set(missing)
        for s in found:
            opp_id = str(s["Id"])
            if opp_id in missing_set:
                summaries[opp_id] = (s, wanted[opp_id], "counterpart")

    return _with_details(client, store, summaries)


def _list_by_ids(client: PartnerCentralReader, ids: list[str]) -> Iterable[dict[str, Any]]:
    for i in range(0, len(ids), IDENTIFIER_FILTER_LIMIT):
        yield from client.list_opportunities(identifiers=ids[i : i + IDENTIFIER_FILTER_LIMIT])


def _with_details(
    client: PartnerCentralReader,
    store: SyncStateStore,
    summaries: Mapping[str, tuple[dict[str, Any], str, str]],
) -> list[tuple[dict[str, Any], str, str]]:
    cached = store.get_opportunities(client.catalog, summaries)
    fresh: list[dict[str, Any]] = []
    out = []
    for opp_id, (summary, partition, source) in summaries.items():
        stamp = to_jsonable(summary.get("LastModifiedDate"))
        hit = cached.get(opp_id)
        if hit is not None and hit[0] == stamp:
            record = hit[1]
        else:
            record = to_jsonable(client.get_opportunity(opp_id))
            fresh.append(record)
        out.append((record, partition, source))
    store.put_opportunities(client.catalog, fresh)
    return out
