"""The pairs' bases in the state store, for the three-way merge (`merge.py` says what a base is)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hspc_pipelines.reconcile.merge import Base
from hspc_pipelines.reconcile.plan import PlanRow
from hspc_pipelines.state.store import SyncStateStore


def load_bases(store: SyncStateStore, catalog: str, links: Mapping[str, str]) -> dict[str, Base]:
    """deal id -> base, for `links` (deal id -> the opportunity id the deal carries). A base kept
    for another opportunity (the deal was relinked) is not this pair's: the plan sees none and the
    owner wins once, as for a new link."""
    kept = store.get_bases(catalog, links)
    return {d: base for d, (opp_id, base) in kept.items() if links.get(d) == opp_id}


def keep_bases(store: SyncStateStore, catalog: str, rows: Iterable[PlanRow]) -> int:
    """Store the new base of each linked pair whose plan saw fields agree; returns how many."""
    bases = {
        r.deal_id: (r.opportunity_id, r.base)
        for r in rows
        if r.base is not None and r.deal_id and r.opportunity_id
    }
    return store.put_bases(catalog, bases)
