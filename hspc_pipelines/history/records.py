"""The sync history's plain records: what a run appends (`HistoryEntry`) and what a reader gets back
(`HistoryRecord`), with the field changes each carries. Pure: no database, no Dagster."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A changed value as stored in the log: JSON scalars as they are, anything else as its JSON text.
FieldValue = str | int | float | bool | None

# Statuses `failures()` and `hspc history --failed` list: the row did not reach its target.
FAILURE_STATUSES: tuple[str, ...] = ("failed", "invalid")

# Field names whose values never reach the log, whatever the caller marks (a token copied into a
# deal property by mistake must not end up in a table people query freely).
_SECRET_NAME = re.compile(r"token|secret|password|passwd|api[_-]?key|credential|private[_-]?key", re.I)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


@dataclass(frozen=True)
class FieldChange:
    """One field a row changed. `secret=True` keeps the name and drops both values before storing."""

    name: str
    old: FieldValue = None
    new: FieldValue = None
    secret: bool = False


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    """One row outcome, as a run appends it. `window` is the partition key or range (`start..end`) of
    a full run; `scope` the ids a scoped run was asked for. `recorded_at` defaults to now (UTC).
    `actor` is who asked for a manual action (`api-token:<id>` or `hubspot-user:<id>`, never a
    secret) and `requested_at` when; both None for scheduled and event-driven work."""

    run_id: str
    job_name: str
    operation: str
    status: str
    deal_id: str | None = None
    opportunity_id: str | None = None
    window: str | None = None
    scope: Sequence[str] = ()
    review_status: str | None = None
    reason_code: str | None = None
    message: str | None = None
    changes: Sequence[FieldChange] = ()
    actor: str | None = None
    requested_at: dt.datetime | None = None
    recorded_at: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class HistoryRecord:
    """One stored row, read back. Secret changes come back with their name and `secret=True` only."""

    id: int
    recorded_at: dt.datetime
    run_id: str
    job_name: str
    operation: str
    status: str
    deal_id: str | None
    opportunity_id: str | None
    window: str | None
    scope: tuple[str, ...]
    review_status: str | None
    reason_code: str | None
    message: str | None
    changes: tuple[FieldChange, ...]
    actor: str | None
    requested_at: dt.datetime | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILURE_STATUSES


def _value(value: Any) -> FieldValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def changes_between(
    before: Mapping[str, Any], after: Mapping[str, Any], secret: Iterable[str] = ()
) -> list[FieldChange]:
    """The fields of `after` whose value differs from `before` (a missing field counts as None),
    sorted by name; names in `secret` (or that look like secrets) are marked secret."""
    secret_names = set(secret)
    return [
        FieldChange(
            name,
            _value(before.get(name)),
            _value(value),
            secret=name in secret_names or is_secret_name(name),
        )
        for name, value in sorted(after.items())
        if before.get(name) != value
    ]


def changes_to_json(changes: Iterable[FieldChange], secret: Iterable[str] = ()) -> str:
    """The JSON text stored in the `changes` column: a list of {"field", "old", "new"}, or of
    {"field", "secret": true} for a secret field (its values are never written)."""
    secret_names = set(secret)
    out: list[dict[str, Any]] = []
    for change in changes:
        if change.secret or change.name in secret_names or is_secret_name(change.name):
            out.append({"field": change.name, "secret": True})
        else:
            out.append({"field": change.name, "old": _value(change.old), "new": _value(change.new)})
    return json.dumps(out, sort_keys=True)


def changes_from_json(text: str | None) -> tuple[FieldChange, ...]:
    if not text:
        return ()
    return tuple(
        FieldChange(item["field"], secret=True)
        if item.get("secret")
        else FieldChange(item["field"], item.get("old"), item.get("new"))
        for item in json.loads(text)
    )
