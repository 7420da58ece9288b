"""In-memory CRM records by type and id, with the server-kept timestamps HubSpot maintains.

Not thread-safe by itself: the emulator holds one lock around every call.
"""

from __future__ import annotations

import bisect
from typing import Any

from .objecttypes import CREATED_PROPERTY, DEFAULT_READ, TYPE_IDS, always_read, modified_properties
from .properties import PropertyRegistry
from .timeutil import iso_ms

FIRST_ID = 10_000_000_001  # HubSpot record ids are large numbers sent as strings


class Record:
    __slots__ = ("archived_ms", "created_ms", "id", "props", "updated_ms")

    def __init__(
        self, object_id: str, props: dict[str, str | None], created_ms: int, updated_ms: int
    ) -> None:
        self.id = object_id
        self.props = props
        self.created_ms = created_ms
        self.updated_ms = updated_ms
        self.archived_ms: int | None = None


class ObjectStore:
    def __init__(self, registry: PropertyRegistry) -> None:
        self.registry = registry
        self.live: dict[str, dict[str, Record]] = {t: {} for t in TYPE_IDS}
        self.archived: dict[str, dict[str, Record]] = {t: {} for t in TYPE_IDS}
        self._next_id = FIRST_ID
        self._sorted: dict[tuple[str, bool], list[int]] = {}

    # ids -----------------------------------------------------------------------------------------
    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id - 1)

    def reserve(self, object_id: str) -> None:
        """Keep generated ids above ids that came from a seed."""
        if object_id.isdigit() and int(object_id) >= self._next_id:
            self._next_id = int(object_id) + 1

    def sorted_ids(self, object_type: str, archived: bool = False) -> list[int]:
        """Ids in ascending order for cursor paging; rebuilt only after inserts or deletes."""
        key = (object_type, archived)
        ids = self._sorted.get(key)
        if ids is None:
            source = self.archived if archived else self.live
            ids = self._sorted[key] = sorted(int(i) for i in source[object_type])
        return ids

    def _dirty(self, object_type: str) -> None:
        self._sorted.pop((object_type, False), None)
        self._sorted.pop((object_type, True), None)

    # writes --------------------------------------------------------------------------------------
    def insert(
        self,
        object_type: str,
        props: dict[str, str | None],
        now: int,
        *,
        object_id: str | None = None,
        created_ms: int | None = None,
        updated_ms: int | None = None,
    ) -> Record:
        """Store a new record; `props` are already validated. Server properties are set here."""
        if object_id is None:
            object_id = self.new_id()
        else:
            self.reserve(object_id)
        created_ms = now if created_ms is None else created_ms
        updated_ms = now if updated_ms is None else updated_ms
        stored: dict[str, str | None] = {k: v for k, v in props.items() if v is not None}
        stored.setdefault(CREATED_PROPERTY[object_type], iso_ms(created_ms))
        modified = iso_ms(updated_ms)
        for name in modified_properties(object_type):
            stored[name] = modified
        stored["hs_object_id"] = object_id
        record = Record(object_id, stored, created_ms, updated_ms)
        self.live[object_type][object_id] = record
        self._dirty(object_type)
        return record

    def update(
        self, object_type: str, record: Record, props: dict[str, str | None], now: int
    ) -> dict[str, str | None]:
        """Apply changed values only; the modified date moves only when something changed."""
        changed: dict[str, str | None] = {}
        for name, value in props.items():
            if record.props.get(name) != value:
                changed[name] = value
                if value is None:
                    record.props.pop(name, None)
                else:
                    record.props[name] = value
        if changed:
            record.updated_ms = max(now, record.updated_ms)
            modified = iso_ms(record.updated_ms)
            for name in modified_properties(object_type):
                record.props[name] = modified
        return changed

    def archive(self, object_type: str, object_id: str, now: int) -> Record | None:
        record = self.live[object_type].pop(object_id, None)
        if record is not None:
            record.archived_ms = now
            self.archived[object_type][object_id] = record
            self._dirty(object_type)
        return record

    def clear(self) -> None:
        for table in (*self.live.values(), *self.archived.values()):
            table.clear()
        self._sorted.clear()
        self._next_id = FIRST_ID

    # reads ---------------------------------------------------------------------------------------
    def get(self, object_type: str, object_id: str, archived: bool = False) -> Record | None:
        return (self.archived if archived else self.live)[object_type].get(object_id)

    def find_by(self, object_type: str, prop: str, values: list[str]) -> dict[str, Record]:
        """Records whose `prop` equals one of `values` (idProperty look-ups); one scan per call."""
        wanted = set(values)
        if prop == "hs_object_id":
            table = self.live[object_type]
            return {v: table[v] for v in wanted if v in table}
        found: dict[str, Record] = {}
        for record in self.live[object_type].values():
            value = record.props.get(prop)
            if value in wanted and value not in found:
                found[value] = record
        return found

    def render(self, object_type: str, record: Record, properties: list[str] | None) -> dict[str, Any]:
        """HubSpot's object JSON; requested properties come back null when empty, unknown ones are skipped."""
        names: tuple[str, ...] | list[str]
        if properties:
            defs = self.registry.names(object_type)
            names = [n for n in properties if n in defs]
            names += [n for n in always_read(object_type) if n not in names]
        else:
            names = DEFAULT_READ[object_type]
        props = record.props
        body: dict[str, Any] = {
            "id": record.id,
            "properties": {n: props.get(n) for n in names},
            "createdAt": iso_ms(record.created_ms),
            "updatedAt": iso_ms(record.updated_ms),
            "archived": record.archived_ms is not None,
        }
        if record.archived_ms is not None:
            body["archivedAt"] = iso_ms(record.archived_ms)
        return body


def page_after(ids: list[int], after: str | None) -> int:
    """Index of the first id at or after the cursor (cursors are record ids)."""
    if not after:
        return 0
    try:
        return bisect.bisect_left(ids, int(after))
    except ValueError:
        return len(ids)
