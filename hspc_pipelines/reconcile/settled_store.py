"""The settled-pair fingerprints in the state store, for the plan (`settled.py` says why)."""

from __future__ import annotations

from collections.abc import Iterable

from hspc_pipelines.reconcile.plan import PlanRow
from hspc_pipelines.reconcile.settled import Settled
from hspc_pipelines.state.store import SyncStateStore


def load_settled(store: SyncStateStore, catalog: str, deal_ids: Iterable[str]) -> dict[str, Settled]:
    return {d: Settled(fp, tuple(w)) for d, (fp, w) in store.get_settled(catalog, deal_ids).items()}


def keep_settled(store: SyncStateStore, catalog: str, rows: Iterable[PlanRow]) -> int:
    """Store the fingerprint of each pair the plan settled in full; returns how many."""
    pairs = {r.deal_id: (r.settled.fingerprint, r.settled.warnings) for r in rows if r.settled and r.deal_id}
    return store.put_settled(catalog, pairs)
