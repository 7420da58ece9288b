"""The sync history: an append-only log of every row outcome of every run, in the state database.

Rows are only ever inserted (there is no update path); `purge` removes rows older than the retention
in bounded batches. An append is one executemany: on PostgreSQL SQLAlchemy sends it as multi-row
INSERT ... VALUES pages (a 10,000-row run: 5 statements, 1.1 to 1.7 s), on SQLite as one in-process
executemany (0.2 to 0.3 s). Compiling one big multi-row VALUES statement ourselves was 4x slower.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hspc_pipelines.history.records import (
    FAILURE_STATUSES,
    HistoryEntry,
    HistoryRecord,
    changes_from_json,
    changes_to_json,
)
from hspc_pipelines.history.schema import ADDED_COLUMNS, HISTORY, META, METADATA, SCHEMA_VERSION
from hspc_pipelines.settings import DEFAULT_RETENTION_DAYS  # HSPC_HISTORY_RETENTION_DAYS
from hspc_pipelines.state.store import _sqlite_wal

PURGE_BATCH = 5_000
# pg_advisory_xact_lock key serialising the first CREATE TABLE ("hspc" "hist" in ASCII).
_CREATE_LOCK = 0x6873_7063_6869_7374
# SQLAlchemy also caps a page at PostgreSQL's 32,767 parameters: 2,340 rows of the 14 columns.
_ROWS_PER_STATEMENT = 2_500
_LIMITS = {c.name: c.type.length for c in HISTORY.columns if isinstance(c.type, sa.String) and c.type.length}


class HistorySchemaError(RuntimeError):
    pass


class SyncHistory:
    """The log on one database. Thread-safe through SQLAlchemy's pool; one instance per process."""

    def __init__(self, engine: sa.Engine, secret_fields: Iterable[str] = ()) -> None:
        """`engine` may be shared with the state store; `secret_fields` are field names whose values
        are never stored, on top of the names `records.is_secret_name` recognises."""
        self._engine = engine
        self._secret_fields = frozenset(secret_fields)
        self._create()

    @classmethod
    def from_url(cls, url: str, secret_fields: Iterable[str] = ()) -> SyncHistory:
        """An engine of its own on `url` (the state store's `HSPC_STATE_URL`), with the store's SQLite
        settings (WAL, 30 s busy timeout)."""
        sqlite = url.startswith("sqlite")
        engine = sa.create_engine(url, connect_args={"timeout": 30} if sqlite else {})
        if sqlite:
            sa.event.listen(engine, "connect", _sqlite_wal)
        return cls(engine, secret_fields)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def _create(self) -> None:
        """Create the tables and record the schema version once, even when several runs start on a
        fresh database at the same moment (without the lock, 6 concurrent first uses on PostgreSQL
        failed on a duplicate key in every trial)."""
        for attempt in range(5):
            try:
                with self._engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
                    METADATA.create_all(conn)
                    stored = conn.execute(
                        sa.select(META.c.value).where(META.c.key == "schema_version")
                    ).scalar()
                    if stored is not None and int(stored) < SCHEMA_VERSION:
                        _migrate(conn, int(stored))
                        stored = str(SCHEMA_VERSION)
                    elif stored is None:
                        # Idempotent: a run that got there first already wrote the same row.
                        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
                            META
                        )
                        conn.execute(
                            insert.values(
                                key="schema_version", value=str(SCHEMA_VERSION)
                            ).on_conflict_do_nothing()
                        )
                break
            except (sa.exc.OperationalError, sa.exc.IntegrityError):
                # SQLite has no such lock: another process created a table between our check and
                # our CREATE; it exists now.
                if self._engine.dialect.name == "postgresql" or attempt == 4:
                    raise
        if stored is not None and int(stored) > SCHEMA_VERSION:
            raise HistorySchemaError(
                f"{META.name}.schema_version is {stored}, newer than this hspc knows ({SCHEMA_VERSION}); "
                "upgrade hspc before reading or writing the sync history"
            )

    def schema_version(self) -> int:
        with self._engine.connect() as conn:
            return int(
                conn.execute(sa.select(META.c.value).where(META.c.key == "schema_version")).scalar_one()
            )

    # -- writing ---------------------------------------------------------------------------------

    def _row(self, entry: HistoryEntry, now: dt.datetime) -> dict[str, Any]:
        if isinstance(entry.scope, str):
            raise TypeError(f"scope {entry.scope!r} must be a list of ids, not one string")
        row = {
            "recorded_at": entry.recorded_at or now,
            "run_id": entry.run_id,
            "job_name": entry.job_name,
            "run_window": entry.window,
            "run_scope": json.dumps(list(entry.scope)) if entry.scope else None,
            "deal_id": entry.deal_id,
            "opportunity_id": entry.opportunity_id,
            "operation": entry.operation,
            "status": entry.status,
            "review_status": entry.review_status,
            "reason_code": entry.reason_code,
            "message": entry.message,
            "changes": changes_to_json(entry.changes, self._secret_fields),
            "actor": entry.actor,
            "requested_at": entry.requested_at,
        }
        # PostgreSQL refuses an over-long value and SQLite would keep it: refuse it on both.
        for name, limit in _LIMITS.items():
            value = row[name]
            if isinstance(value, str) and len(value) > limit:
                cut = "..." if len(value) > 80 else ""
                raise ValueError(
                    f"history {name} {value[:80]!r}{cut} has {len(value)} characters; at most {limit}"
                )
        return row

    def append(self, entries: Iterable[HistoryEntry]) -> int:
        """Insert the entries in one transaction, in multi-row pages; returns how many."""
        now = dt.datetime.now(dt.UTC)
        rows = [self._row(e, now) for e in entries]
        if not rows:
            return 0
        with self._engine.begin() as conn:
            conn.execution_options(insertmanyvalues_page_size=_ROWS_PER_STATEMENT).execute(
                HISTORY.insert(), rows
            )
        return len(rows)

    def purge(self, older_than: dt.datetime, batch_size: int = PURGE_BATCH) -> int:
        """Delete rows recorded strictly before `older_than`, `batch_size` rows per transaction (a
        long backlog never holds one huge lock); returns how many. One cheap indexed statement when
        nothing is due."""
        if batch_size < 1:
            raise ValueError(f"batch_size {batch_size} must be at least 1")
        deleted = 0
        while True:
            due = (
                sa.select(HISTORY.c.id)
                .where(HISTORY.c.recorded_at < older_than)
                # Oldest first along the recorded_at index: no sort of the whole backlog.
                .order_by(HISTORY.c.recorded_at)
                .limit(batch_size)
            )
            with self._engine.begin() as conn:
                count = conn.execute(HISTORY.delete().where(HISTORY.c.id.in_(due))).rowcount
            deleted += count
            if count < batch_size:
                return deleted

    def purge_expired(
        self, retention_days: int = DEFAULT_RETENTION_DAYS, now: dt.datetime | None = None
    ) -> int:
        """Apply the retention: delete rows older than `retention_days` days before `now`."""
        if retention_days < 1:
            raise ValueError(f"retention_days {retention_days} must be a whole number of days, at least 1")
        return self.purge((now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=retention_days))

    # -- reading ---------------------------------------------------------------------------------

    def _read(self, query: sa.Select[Any]) -> list[HistoryRecord]:
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def timeline(self, deal_id: str, limit: int = 50) -> list[HistoryRecord]:
        """The deal's rows, newest first (ties by insertion order, newest first)."""
        return self._read(
            sa.select(HISTORY)
            .where(HISTORY.c.deal_id == deal_id)
            .order_by(HISTORY.c.recorded_at.desc(), HISTORY.c.id.desc())
            .limit(limit)
        )

    def failures(
        self,
        since: dt.datetime,
        until: dt.datetime | None = None,
        statuses: Sequence[str] = FAILURE_STATUSES,
        limit: int | None = None,
    ) -> list[HistoryRecord]:
        """Rows whose status is one of `statuses` recorded in [since, until), newest first."""
        query = sa.select(HISTORY).where(HISTORY.c.status.in_(list(statuses)), HISTORY.c.recorded_at >= since)
        if until is not None:
            query = query.where(HISTORY.c.recorded_at < until)
        query = query.order_by(HISTORY.c.recorded_at.desc(), HISTORY.c.id.desc())
        return self._read(query if limit is None else query.limit(limit))

    def run_rows(self, run_id: str) -> list[HistoryRecord]:
        """Every row one run appended, in the order it appended them."""
        return self._read(sa.select(HISTORY).where(HISTORY.c.run_id == run_id).order_by(HISTORY.c.id))

    def dispose(self) -> None:
        self._engine.dispose()


def _record(row: Any) -> HistoryRecord:
    return HistoryRecord(
        id=int(row["id"]),
        recorded_at=row["recorded_at"],
        run_id=row["run_id"],
        job_name=row["job_name"],
        operation=row["operation"],
        status=row["status"],
        deal_id=row["deal_id"],
        opportunity_id=row["opportunity_id"],
        window=row["run_window"],
        scope=tuple(json.loads(row["run_scope"])) if row["run_scope"] else (),
        review_status=row["review_status"],
        reason_code=row["reason_code"],
        message=row["message"],
        changes=changes_from_json(row["changes"]),
        actor=row["actor"],
        requested_at=row["requested_at"],
    )


def _migrate(conn: sa.Connection, stored: int) -> None:
    """From the stored schema version to this one: the columns added since, then the version. Runs
    under the creation lock on PostgreSQL; on SQLite the transaction's write lock serialises it, and
    a column another process added meanwhile is skipped."""
    present = {c["name"] for c in sa.inspect(conn).get_columns(HISTORY.name)}
    for version in range(stored + 1, SCHEMA_VERSION + 1):
        for name in ADDED_COLUMNS.get(version, ()):
            if name in present:
                continue
            column = HISTORY.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f'ALTER TABLE {HISTORY.name} ADD COLUMN "{name}" {kind}'))
    conn.execute(META.update().where(META.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
