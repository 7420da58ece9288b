"""HubSpot's search index lag: a write becomes visible to search some seconds after it is made.

Off (0) by default. With a lag, search sees each record as it was `lag` ago: a record created a moment
ago is not found, an update a moment ago is matched on its old values (and answers them), a record
archived a moment ago is still found. Reads by id, lists and batch reads are not affected (HubSpot's
are not either).
"""

from __future__ import annotations

from collections.abc import Iterator

from .store import Record
from .timeutil import now_ms


def _copy(record: Record | None) -> Record | None:
    if record is None:
        return None
    copy = Record(record.id, dict(record.props), record.created_ms, record.updated_ms)
    copy.archived_ms = record.archived_ms
    return copy


class SearchIndex:
    def __init__(self, lag_ms: int = 0) -> None:
        self.lag_ms = lag_ms
        # (type, id) -> [(written at ms, the record as search sees it from then + lag; None: not found)],
        # oldest first; the first entry is what the index held before the writes not yet all visible.
        # Visibility is decided when searching, so changing the lag applies to writes already made.
        self._views: dict[tuple[str, str], list[tuple[int, Record | None]]] = {}

    def clear(self) -> None:
        self._views.clear()

    def before_write(self, object_type: str, object_id: str, record: Record | None) -> None:
        """Call before changing a record (None: it is being created)."""
        if self.lag_ms > 0:
            self._views.setdefault((object_type, object_id), [(0, _copy(record))])

    def after_write(self, object_type: str, object_id: str, record: Record | None) -> None:
        """Call after the change (None: archived)."""
        if self.lag_ms > 0:
            self._views[(object_type, object_id)].append((now_ms(), _copy(record)))

    def visible(self, object_type: str, live: dict[str, Record]) -> Iterator[Record]:
        """The records search sees now, in the live table's order, then the lagging archived ones."""
        now = now_ms()
        lagging = {oid: self._view(t, oid, now) for t, oid in list(self._views) if t == object_type}
        for object_id, record in live.items():
            if object_id in lagging:
                seen = lagging.pop(object_id)
                if seen is not None:
                    yield seen
            else:
                yield record
        for seen in lagging.values():
            if seen is not None:
                yield seen

    def _view(self, object_type: str, object_id: str, now: int) -> Record | None:
        key = (object_type, object_id)
        entries = self._views[key]
        current = [entry for entry in entries if entry[0] + self.lag_ms <= now]
        if len(current) == len(entries):  # every write is visible: the live table is the truth again
            del self._views[key]
        return current[-1][1]
