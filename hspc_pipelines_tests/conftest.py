"""Suite-wide setup: Dagster's SQLite instance storage without fsync in the test processes.

Dagster's SQLite storages (runs.db, schedules.db, and the event log's index.db and one <run_id>.db per
run under history/) open a connection per operation in rollback-journal mode, so every stored event
is a commit that waits for several fsyncs. A 130-day range reconcile stores about 1,100 events; on this
machine's disk the fsyncs were most of the suite's time. Tests never lose power, so durability
against an OS crash is not what they test: `synchronous=OFF` on those files drops the fsyncs and keeps
everything else (the same files, journal mode, locking, and what other processes see; a killed process
still loses nothing it committed). The product's own SQLite state store keeps its settings (WAL,
synchronous=NORMAL, set by `hspc_pipelines/state/store.py`), and processes the tests start (Dagster's
daemon, `dagster dev`) keep Dagster's defaults.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

# Where a Dagster instance keeps its SQLite storages, relative to its root.
_DAGSTER_STORAGE_DIRS = {"history", "runs", "schedules"}


def _is_dagster_storage(dbapi_connection: sqlite3.Connection) -> bool:
    main = next((row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"), "")
    path = Path(main) if main else None
    return path is not None and path.suffix == ".db" and path.parent.name in _DAGSTER_STORAGE_DIRS


@sa.event.listens_for(sa.engine.Engine, "connect")
def _dagster_sqlite_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection) and _is_dagster_storage(dbapi_connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")
