"""The asset store (Delta Lake through dagster-deltalake-pandas), through real Dagster runs: on a
local folder and on moto's S3 server.

- a day's run replaces that day's rows only; a range run (single-run backfill) replaces each day it
  covers and leaves the others; downstream assets load the whole window;
- two runs writing different days at the same time both land;
- unpartitioned and empty outputs store and load;
- a store that cannot be written fails the run's first step, naming HSPC_ASSET_STORE_URL and the
  cause, before the step's body runs; nothing is written.
"""

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from deltalake import DeltaTable

from hspc_pipelines.defs.io import STORE_VARIABLE, asset_store_io_manager
from hspc_pipelines.emulators._server import free_port
from hspc_pipelines_tests.support.moto_s3 import moto_s3_server

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-11")
CALLS: list[str] = []


class Tag(dg.Config):
    tag: str = "first"


@dg.asset(partitions_def=DAYS, metadata={"partition_expr": "partition_date"})
def daily(context: dg.AssetExecutionContext, config: Tag) -> pd.DataFrame:
    CALLS.append(config.tag)
    window = context.partition_time_window
    days = pd.date_range(window.start.replace(tzinfo=None), window.end.replace(tzinfo=None), freq="D")[:-1]
    return pd.DataFrame(
        {
            "partition_date": [d for d in days for _ in range(3)],
            "deal_id": pd.array([f"{d:%m%d}-{i}" for d in days for i in range(3)], dtype="string"),
            "tag": pd.array([config.tag] * (3 * len(days)), dtype="string"),
            "note": pd.array([None] * (3 * len(days)), dtype="string"),
        }
    )


@dg.asset(partitions_def=DAYS, metadata={"partition_expr": "partition_date"})
def downstream(daily: pd.DataFrame) -> pd.DataFrame:
    return daily.assign(seen=len(daily))


@dg.asset
def unpartitioned() -> pd.DataFrame:
    return pd.DataFrame({"n": [1, 2, 3], "when": pd.to_datetime(["2026-01-01"] * 3, utc=True)})


@dg.asset
def empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"deal_id": pd.Series([], dtype=object), "partition_date": pd.Series([], dtype="datetime64[ns]")}
    )


@dg.asset(deps=[unpartitioned])
def reads_both(unpartitioned: pd.DataFrame, empty: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"unpartitioned": [len(unpartitioned)], "empty": [len(empty)]})


def _materialize(
    io_manager: Any,
    selection: list[dg.AssetsDefinition],
    *,
    partition_key: str | None = None,
    tags: dict[str, str] | None = None,
    tag: str = "first",
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    config = {"ops": {"daily": {"config": {"tag": tag}}}} if daily in selection else None
    return dg.materialize(
        selection, resources={"io_manager": io_manager}, partition_key=partition_key, tags=tags,
        run_config=config, raise_on_error=raise_on_error,
    )  # fmt: skip


def _range(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def _failure(result: dg.ExecuteInProcessResult) -> str:
    """The run's errors as text (a resource that fails to start fails the run before any step body)."""
    errors = [getattr(e.event_specific_data, "error", None) for e in result.all_events]
    return "\n".join(e.to_string() for e in errors if e is not None)


def _stored(root: str, table: str, options: dict[str, str] | None = None) -> pd.DataFrame:
    frame: pd.DataFrame = DeltaTable(f"{root}/hspc/{table}", storage_options=options).to_pandas()
    return frame.sort_values("deal_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, dict[str, str]]]:
    """(an s3:// root on a moto server, the storage options a reader needs), AWS_* set for the product."""
    with moto_s3_server() as moto, pytest.MonkeyPatch.context() as mp:
        for key, value in moto.env().items():
            mp.setenv(key, value)
        yield f"s3://{moto.bucket}/outputs", moto.storage_options()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str] | None]:
    if request.param == "local":
        return str(tmp_path / "assets"), None
    root, options = request.getfixturevalue("s3")
    return f"{root}/{uuid.uuid4().hex[:6]}", options


def test_a_day_replaces_its_rows_and_a_range_run_replaces_each_day_it_covers(store: Any) -> None:
    root, options = store
    io = asset_store_io_manager(root, "us-east-1")
    _materialize(io, [daily, downstream], tags=_range("2026-01-01", "2026-01-10"))
    assert len(_stored(root, "daily", options)) == 30

    _materialize(io, [daily], partition_key="2026-01-04", tag="day")
    _materialize(io, [daily, downstream], tags=_range("2026-01-06", "2026-01-08"), tag="range")

    stored = _stored(root, "daily", options)
    by_day = stored.groupby(stored.partition_date.dt.strftime("%Y-%m-%d")).tag.agg(set).to_dict()
    assert by_day == {
        **{f"2026-01-{d:02d}": {"first"} for d in (1, 2, 3, 5, 9, 10)},
        "2026-01-04": {"day"},
        **{f"2026-01-{d:02d}": {"range"} for d in (6, 7, 8)},
    }
    assert len(stored) == 30 and stored.note.isna().all()
    # The range run's downstream step loaded its whole window (3 days x 3 rows), not its first day.
    down = _stored(root, "downstream", options)
    in_range = down[down.partition_date >= pd.Timestamp("2026-01-06")]
    assert set(in_range[in_range.partition_date <= pd.Timestamp("2026-01-08")].seen) == {9}


def test_two_runs_writing_different_days_at_once_both_land(store: Any) -> None:
    root, options = store
    io = asset_store_io_manager(root, "us-east-1")
    _materialize(io, [daily], partition_key="2026-01-01")
    errors: list[BaseException] = []

    def run(day: str) -> None:
        try:
            _materialize(io, [daily], partition_key=day, tag=day)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"2026-01-0{d}",)) for d in (2, 3, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = _stored(root, "daily", options)
    assert set(stored.tag) == {"first", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"}
    assert len(stored) == 15


def test_unpartitioned_and_empty_outputs_store_and_load(store: Any) -> None:
    root, options = store
    result = _materialize(asset_store_io_manager(root, "us-east-1"), [unpartitioned, empty, reads_both])
    assert result.success
    both = DeltaTable(f"{root}/hspc/reads_both", storage_options=options).to_pandas()
    assert both.to_dict("records") == [{"unpartitioned": 3, "empty": 0}]


def test_a_store_that_cannot_be_written_fails_the_first_step_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    CALLS.clear()
    result = _materialize(
        asset_store_io_manager(str(blocker / "assets"), "us-east-1"), [daily], partition_key="2026-01-02",
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success and CALLS == []  # the body never ran
    message = _failure(result)
    assert STORE_VARIABLE in message and str(blocker) in message and "NotADirectoryError" in message


def test_an_unreachable_s3_store_fails_fast_with_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port('127.0.0.1')}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    CALLS.clear()
    result = _materialize(
        asset_store_io_manager("s3://no-such-bucket/x", "us-east-1"), [daily], partition_key="2026-01-02",
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success and CALLS == []
    message = _failure(result)
    assert f"{STORE_VARIABLE}='s3://no-such-bucket/x'" in message and "EndpointConnectionError" in message


def test_a_failed_write_leaves_the_day_as_it_was(tmp_path: Path) -> None:
    """Delta commits are atomic: a write that fails part-way leaves the previous rows readable."""
    root = str(tmp_path / "assets")
    io = asset_store_io_manager(root, "us-east-1")
    _materialize(io, [daily], partition_key="2026-01-03")

    @dg.asset(name="daily", partitions_def=DAYS, metadata={"partition_expr": "partition_date"})
    def bad_daily() -> pd.DataFrame:
        # A column Arrow cannot type (a number and a text): the write fails before its commit.
        day = dt.datetime(2026, 1, 3)
        return pd.DataFrame({"partition_date": [day, day], "deal_id": [1, "x"], "tag": ["bad", "bad"]})

    result = dg.materialize([bad_daily], resources={"io_manager": io}, partition_key="2026-01-03",
                            raise_on_error=False)  # fmt: skip
    assert not result.success
    stored = _stored(root, "daily")
    assert len(stored) == 3 and set(stored.tag) == {"first"}
