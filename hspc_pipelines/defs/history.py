"""The runs' side of the sync history (docs/history.md): append a step's entries, apply the retention,
and show the run's rows as metadata. The entries themselves are built by the features.

A history write that fails never undoes or hides the sync work: the step logs a warning, finishes its
writes and yields its output and checks, then fails (`HistoryWrite.raise_if_failed`). The history is
the audit trail people rely on ("why did this deal not reach ACE?"); a green run with a gap in it
would be found only when someone needs the missing rows, whereas a failed run reaches the operator
through the run-failure sensor. Nothing is lost by failing that late: the writes are done, the
output is stored, and every step that appends is the last of its job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from hspc_pipelines.defs.resources import SyncStateResource
from hspc_pipelines.history import HistoryEntry
from hspc_pipelines.history.format import run_markdown
from hspc_pipelines.settings import load_settings


@dataclass
class HistoryWrite:
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise dg.Failure(
                description=f"the sync work is done, but its sync history was not recorded: {self.error}",
                metadata={"history_error": self.error},
            )


# Assets and the scoped op jobs (sync_deals, submission, invitations) append alike.
StepContext = dg.AssetExecutionContext | dg.OpExecutionContext


@dataclass(frozen=True)
class RunIdentity:
    run_id: str
    job_name: str
    run_config: Mapping[str, Any]


def run_identity(context: StepContext) -> RunIdentity:
    """The step's run: its id, job and run config."""
    try:
        run = context.run
    except dg.DagsterError:  # an asset invoked as a function (tests) has no run
        return RunIdentity("EPHEMERAL", "direct", {})
    return RunIdentity(run.run_id, run.job_name, run.run_config)


def window_of(context: StepContext) -> str | None:
    """The run's partition key, or `start..end` for a range run; None when unpartitioned."""
    if not context.has_partition_key_range:
        return None
    keys = context.partition_key_range
    return keys.start if keys.start == keys.end else f"{keys.start}..{keys.end}"


def run_scope(run: RunIdentity, steps: Sequence[str], fields: Sequence[str]) -> list[str]:
    """The ids a scoped run was given in the config of `steps` (e.g. ScopeConfig's deal ids)."""
    ops = run.run_config.get("ops") or {}
    assert isinstance(ops, Mapping)
    ids: list[str] = []
    for step in steps:
        config = (ops.get(step) or {}).get("config") or {}
        for name in fields:
            ids += [str(i) for i in config.get(name) or [] if str(i) not in ids]
    return ids


def append_history(
    context: StepContext,
    sync_state: SyncStateResource,
    entries: Sequence[HistoryEntry],
    **counts: int,
) -> HistoryWrite:
    """Append, purge what the retention (HSPC_HISTORY_RETENTION_DAYS) lets go, and describe the run's
    rows; `counts` go to the metadata as they are (e.g. rows counted but not logged)."""
    extra = {f"history_{name}": n for name, n in counts.items()}
    try:
        history = sync_state.get_history()
        appended = history.append(entries)
        purged = history.purge_expired(load_settings().history_retention_days)
        table = run_markdown(history.run_rows(run_identity(context).run_id))
    except Exception as exc:  # any cause: the run says so at its end (see the module docstring)
        error = f"{type(exc).__name__}: {exc}"
        context.log.warning(f"sync history: {len(entries)} row(s) not recorded: {error}")
        return HistoryWrite({"history_rows_appended": 0, "history_error": error, **extra}, error)
    return HistoryWrite(
        {
            "history_rows_appended": appended,
            "history_rows_purged": purged,
            "history": dg.MetadataValue.md(table),
            **extra,
        }
    )
