"""The sync history's tables, in the state database (`HSPC_STATE_URL`): SQLite locally, PostgreSQL in
production. docs/history.md describes every column; a change here bumps SCHEMA_VERSION."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

SCHEMA_VERSION = 2
# Columns added after version 1, by the version that added them: `SyncHistory` adds them to an
# existing table (ALTER TABLE ... ADD COLUMN, nullable, so old rows stay as they are).
ADDED_COLUMNS: dict[int, tuple[str, ...]] = {2: ("requested_at",)}
HISTORY_TABLE = "hspc_sync_history"
META_TABLE = "hspc_sync_history_meta"

METADATA = sa.MetaData()


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A UTC instant: `timestamptz` on PostgreSQL; on SQLite the text SQLAlchemy writes
    (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC), which sorts and compares like SQLite's own datetime()."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"recorded_at {value.isoformat()!r} has no time zone; give a UTC datetime")
        value = value.astimezone(dt.UTC)
        # SQLite's text form has no offset: store the UTC wall clock.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

HISTORY = sa.Table(
    HISTORY_TABLE,
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("job_name", sa.String(128), nullable=False),
    sa.Column("run_window", sa.String(64)),
    sa.Column("run_scope", sa.Text),
    sa.Column("deal_id", sa.String(32)),
    sa.Column("opportunity_id", sa.String(32)),
    sa.Column("operation", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("review_status", sa.String(32)),
    sa.Column("reason_code", sa.String(128)),
    sa.Column("message", sa.Text),
    sa.Column("changes", sa.Text, nullable=False),
    sa.Column("actor", sa.String(128)),
    # When the actor asked (the submit request's arrival, or when the HubSpot user set the property).
    sa.Column("requested_at", UTCDateTime()),
    # One index per everyday question: a deal's timeline, failures since a date, one run's rows,
    # an opportunity's rows, and the retention purge (oldest first).
    sa.Index("ix_hspc_sync_history_deal", "deal_id", "recorded_at"),
    sa.Index("ix_hspc_sync_history_status", "status", "recorded_at"),
    sa.Index("ix_hspc_sync_history_run", "run_id"),
    sa.Index("ix_hspc_sync_history_opportunity", "opportunity_id"),
    sa.Index("ix_hspc_sync_history_recorded", "recorded_at"),
)

# key -> value; holds `schema_version` for `hspc doctor` and future migrations.
META = sa.Table(
    META_TABLE,
    METADATA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)
