"""The sync history: an append-only log of row outcomes in the state database (see docs/history.md)."""

from hspc_pipelines.history.log import HistorySchemaError, SyncHistory
from hspc_pipelines.history.records import (
    FAILURE_STATUSES,
    FieldChange,
    HistoryEntry,
    HistoryRecord,
    changes_between,
    is_secret_name,
)
from hspc_pipelines.history.schema import SCHEMA_VERSION
from hspc_pipelines.settings import DEFAULT_RETENTION_DAYS

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "FAILURE_STATUSES",
    "SCHEMA_VERSION",
    "FieldChange",
    "HistoryEntry",
    "HistoryRecord",
    "HistorySchemaError",
    "SyncHistory",
    "changes_between",
    "is_secret_name",
]
