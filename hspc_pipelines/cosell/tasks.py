"""Following Partner Central's asynchronous tasks with the List…Tasks operations, inside a time budget.

There is no Get…Task operation: a task is read back by listing with `TaskIdentifier=[…]` (ten ids a
call, done by the client). Waits grow exponentially and their sum never exceeds the budget; a task
still IN_PROGRESS when the budget is spent is returned as such, for the caller to record and pick up
on its next run instead of sleeping on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from hspc_pipelines.cosell.steps import backoff_delays

log = logging.getLogger(__name__)

IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"
Lister = Callable[[Sequence[str]], Iterable[Mapping[str, Any]]]


def follow_tasks(
    list_tasks: Lister,
    started: Mapping[str, Mapping[str, Any]],
    budget_s: float,
    sleep: Callable[[float], None] = time.sleep,
    first_wait_s: float = 0.5,
) -> dict[str, dict[str, Any]]:
    """Task id -> latest task summary. `started` holds what the Start… calls (or a previous run) returned;
    tasks already finished there are not listed again."""
    latest: dict[str, dict[str, Any]] = {tid: dict(t) for tid, t in started.items()}

    def open_ids() -> list[str]:
        return [tid for tid, t in latest.items() if t.get("TaskStatus") not in (COMPLETE, FAILED)]

    def refresh() -> None:
        for summary in list_tasks(open_ids()):
            tid = str(summary.get("TaskId") or "")
            if tid in latest:
                latest[tid] = dict(summary)

    if not open_ids():
        return latest
    refresh()
    for wait in backoff_delays(budget_s, first_s=first_wait_s):
        if not open_ids():
            break
        sleep(wait)
        refresh()
    pending = open_ids()
    if pending:
        log.info(
            "%d task(s) still in progress after %.1fs: %s (picked up by the next run)",
            len(pending),
            budget_s,
            ", ".join(pending),
        )
    return latest
