"""Sync-history rows for tests: a fixed clock and an entry with plain defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hspc_pipelines.history import HistoryEntry

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def entry(**values: Any) -> HistoryEntry:
    """A reconcile row with the given fields overriding plain defaults."""
    fields: dict[str, Any] = {
        "run_id": "run-a",
        "job_name": "reconcile",
        "operation": "update",
        "status": "updated",
        "deal_id": "1001",
        "window": "2026-12-05",
        "recorded_at": NOW,
    }
    fields.update(values)
    return HistoryEntry(**fields)
