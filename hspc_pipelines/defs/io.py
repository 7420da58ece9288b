"""Where asset outputs live: Delta Lake tables (dagster-deltalake-pandas) under `HSPC_ASSET_STORE_URL`,
`s3://bucket/prefix` in production or a local folder under DAGSTER_HOME. docs/production.md has the
measured comparison that chose Delta Lake.

A run's window of daily partitions (one day or a backfill range) replaces exactly the rows of those
days, in one Delta commit: readers never see half a day, other days stay as they were, and two runs
writing different days both land (delta-rs retries a commit that lost the race when the other
commit touched other days). dagster-deltalake itself filters a time window on its first day only,
so a range run would replace and load one day: the handler below uses the whole window. Empty
outputs still create their table, so a window with nothing in it loads as an empty frame.

Before a step runs, the IO manager writes and deletes a probe object under the root: a store that
cannot be reached or written fails the run's first step with a message naming
`HSPC_ASSET_STORE_URL` and the cause, before anything is written to HubSpot or Partner Central.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from botocore.config import Config as BotoConfig
from dagster import Failure, InitResourceContext, InputContext, MetadataValue, OutputContext
from dagster._core.definitions import TimeWindow
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster_deltalake import DeltaLakeIOManager, LocalConfig, S3Config
from dagster_deltalake.config import ClientConfig
from dagster_deltalake.io_manager import TableConnection
from dagster_deltalake_pandas import DeltaLakePandasTypeHandler
from deltalake import DeltaTable, write_deltalake

STORE_VARIABLE = "HSPC_ASSET_STORE_URL"
# The probe gives up fast: a wrong endpoint or bucket should fail the step in seconds, not after
# the object store's default three minutes of retries.
_PROBE_CONFIG = BotoConfig(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
)


def _window(table_slice: TableSlice) -> tuple[str, dt.datetime, dt.datetime] | None:
    """(column, start, end) of the slice's time window, naive UTC as the frames store it."""
    for dim in table_slice.partition_dimensions or []:
        if isinstance(dim.partitions, TimeWindow):
            start, end = dim.partitions
            return dim.partition_expr, start.replace(tzinfo=None), end.replace(tzinfo=None)
    return None


def to_arrow_table(df: pd.DataFrame) -> pa.Table:
    """The frame as Arrow in types Delta stores: microsecond timestamps, and text for columns that
    are all missing (Arrow's null type has no Delta equivalent)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = []
    for f in table.schema:
        if pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("us", tz=f.type.tz)))
        elif pa.types.is_null(f.type):
            fields.append(pa.field(f.name, pa.string()))
        else:
            fields.append(f)
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


class WindowDeltaPandasHandler(DeltaLakePandasTypeHandler):
    """Pandas frames in Delta tables, a time-window slice being every day of the window."""

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection: Any
    ) -> None:
        conn = cast(TableConnection, connection)
        data = to_arrow_table(obj)
        window = _window(table_slice)
        # No existence check first (one less log read per write): a predicate overwrite or a
        # schema overwrite also creates the table.
        if window is not None:
            column, start, end = window
            write_deltalake(
                conn.table_uri,
                data,
                mode="overwrite",
                predicate=f"{column} >= '{start:%Y-%m-%d %H:%M:%S}' AND {column} < '{end:%Y-%m-%d %H:%M:%S}'",
                partition_by=[column],
                schema_mode="merge",  # a column added by a release joins the table
                storage_options=conn.storage_options,
            )
        else:
            write_deltalake(
                conn.table_uri,
                data,
                mode="overwrite",
                schema_mode="overwrite",
                storage_options=conn.storage_options,
            )
        rows_key = "dagster/partition_row_count" if context.has_partition_key else "dagster/row_count"
        context.add_output_metadata({rows_key: len(obj), "table_uri": MetadataValue.path(conn.table_uri)})

    def load_input(self, context: InputContext, table_slice: TableSlice, connection: Any) -> pd.DataFrame:
        conn = cast(TableConnection, connection)
        dataset = DeltaTable(conn.table_uri, storage_options=conn.storage_options).to_pyarrow_dataset()
        window = _window(table_slice)
        where = None
        if window is not None:
            column, start, end = window
            field_type = dataset.schema.field(column).type
            where = (pc.field(column) >= pa.scalar(start, field_type)) & (
                pc.field(column) < pa.scalar(end, field_type)
            )
        frame: pd.DataFrame = dataset.to_table(columns=table_slice.columns, filter=where).to_pandas()
        return frame


def _cause(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def probe_store(root_uri: str, region: str | None) -> None:
    """Write and delete one small object under the root; raise `Failure` naming the setting if either fails."""
    name = f"_hspc_probe/{uuid.uuid4().hex}"
    try:
        if "://" not in root_uri:
            path = Path(root_uri) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"ok")
            path.unlink()
            return
        bucket, _, prefix = root_uri.removeprefix("s3://").partition("/")
        key = f"{prefix.strip('/')}/{name}".lstrip("/")
        # boto3 finds credentials and AWS_ENDPOINT_URL the way delta-rs does (the standard chain).
        s3 = boto3.client("s3", region_name=region, config=_PROBE_CONFIG)
        s3.put_object(Bucket=bucket, Key=key, Body=b"ok")
        s3.delete_object(Bucket=bucket, Key=key)
    except Exception as exc:
        raise Failure(
            description=(
                f"{STORE_VARIABLE}={root_uri!r}: the asset store cannot be written "
                f"({type(exc).__name__}: {_cause(exc)}); allowed: s3://bucket/prefix that this "
                "process can write, or a writable local directory"
            )
        ) from exc


class HspcDeltaIOManager(DeltaLakeIOManager):
    """Delta Lake IO manager for pandas frames, with whole-window slices and a store probe."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler[Any]]:
        return [WindowDeltaPandasHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame

    def create_io_manager(self, context: InitResourceContext) -> DbIOManager:
        probe_store(self.root_uri, getattr(self.storage_options, "region", None))
        return super().create_io_manager(context)


def asset_store_io_manager(url: str, region: str, root: Any = None) -> HspcDeltaIOManager:
    """The IO manager for `url` (an s3:// URL or a local directory); `root` is what the resource
    holds instead when given (`dg.EnvVar` of the setting, read again when a run starts). S3
    credentials and endpoint come from the standard AWS chain (task role, AWS_* variables,
    AWS_ENDPOINT_URL for moto)."""
    root = url if root is None else root
    if url.startswith("s3://"):
        return HspcDeltaIOManager(
            root_uri=root,
            storage_options=S3Config(region=region),
            # An http endpoint is only ever one set on purpose (moto); S3 itself is https.
            client_options=ClientConfig(allow_http=True),
            schema="hspc",
        )
    return HspcDeltaIOManager(root_uri=root, storage_options=LocalConfig(), schema="hspc")
