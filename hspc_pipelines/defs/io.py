"""Where asset outputs live: DuckDB, which stores a run's window of daily partitions (one day or a
range) by replacing exactly those rows. Empty outputs still create their table, so a window with
nothing in it loads as an empty frame downstream instead of failing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from dagster import OutputContext
from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice
from dagster_duckdb import DuckDBIOManager
from dagster_duckdb_pandas import DuckDBPandasTypeHandler


def _add_new_columns(table_slice: TableSlice, obj: pd.DataFrame, connection: Any) -> None:
    """Columns a release added at the end of a frame (e.g. `sync_plan.conflicts_json`) are added to a
    table an older release created, so the handler's positional insert keeps working after an upgrade."""
    table = f"{table_slice.schema}.{table_slice.table}"
    exists = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [table_slice.schema, table_slice.table],
    ).fetchone()[0]
    if not exists:
        return
    have = {row[0] for row in connection.execute(f"describe {table}").fetchall()}
    for name, type_, *_ in connection.execute("describe select * from obj").fetchall():
        if name not in have:
            connection.execute(f'alter table {table} add column "{name}" {type_}')


class _EmptySafePandasHandler(DuckDBPandasTypeHandler):
    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection: Any
    ) -> None:
        _add_new_columns(table_slice, obj, connection)
        if not obj.empty:
            super().handle_output(context, table_slice, obj, connection)
            return
        connection.execute(
            f"create table if not exists {table_slice.schema}.{table_slice.table} as select * from obj"
        )
        context.add_output_metadata(
            {"dagster/partition_row_count" if context.has_partition_key else "dagster/row_count": 0}
        )


class HspcDuckDBIOManager(DuckDBIOManager):
    """DuckDB IO manager for pandas frames (dagster-duckdb-pandas, with empty windows handled)."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler[Any]]:
        return [_EmptySafePandasHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame
