"""`python -m benchmarks.storage [--rows N] [--days D] [--e2e-deals N] [--results]`: the asset store's
candidate table formats on the same work (issue 14), opt-in, printed as one table; with
`--e2e-deals` also the end-to-end no-op reconcile of N pairs with the local default store and with
the production store (moto S3), as a ratio; `--results` writes the section of benchmarks/RESULTS.md.

Each candidate writes and reads a 10,000-row window (one day) and a 130-day range (the same rows
spread over the days, written as one range overwrite: a single-run backfill), replaces three days
of the range (the other days must be untouched), and runs four writers of different days at once
(every day must survive). Backends: a local folder (the default when `HSPC_ASSET_STORE_URL` is
unset) and moto's S3 server with PostgreSQL (the production shape; Iceberg's SQL catalog lives
there). Times are printed for comparison within this run only.

Candidates: Delta Lake (deltalake, what dagster-deltalake-pandas writes with), Iceberg (pyiceberg
with a SQL catalog, what dagster-iceberg writes with) and DuckLake (a DuckDB extension).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

START = dt.datetime(2026, 1, 1)
REGION = "us-east-1"


def sample(rows: int, days: int, *, seed: int = 1) -> pd.DataFrame:
    """A frame shaped like the reconcile's (ids, texts, numbers, a timestamp), `days` days from START."""
    rng = np.random.default_rng(seed)
    idx = np.arange(rows)
    return pd.DataFrame(
        {
            "deal_id": pd.array([str(100000 + i) for i in idx], dtype="string"),
            "opportunity_id": pd.array([f"O{7000000 + i}" for i in idx], dtype="string"),
            "operation": pd.array(rng.choice(["none", "create", "update"], rows), dtype="string"),
            "title": pd.array([f"Deal {i} #AWS" for i in idx], dtype="string"),
            "amount": rng.uniform(0, 1e6, rows),
            "stage": pd.array(rng.choice(["Prospect", "Qualified", "Committed"], rows), dtype="string"),
            "changed": rng.integers(0, 20, rows),
            "partition_date": [START + dt.timedelta(days=int(i % days)) for i in idx],
            "seed": seed,
        }
    )


def arrow(df: pd.DataFrame) -> pa.Table:
    """The frame as Arrow with microsecond timestamps (what Iceberg v2 and Delta store)."""
    data = pa.Table.from_pandas(df, preserve_index=False)
    fields = [
        pa.field(f.name, pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f for f in data.schema
    ]
    return data.cast(pa.schema(fields))


def day_window(first: int, days: int = 1) -> tuple[dt.datetime, dt.datetime]:
    return START + dt.timedelta(days=first), START + dt.timedelta(days=first + days)


class Candidate(Protocol):
    name: str

    def write(self, table: str, df: pd.DataFrame, window: tuple[dt.datetime, dt.datetime]) -> None: ...
    def read(self, table: str, window: tuple[dt.datetime, dt.datetime]) -> pd.DataFrame: ...


# -- Delta Lake --------------------------------------------------------------------------------------
class Delta:
    name = "Delta Lake (deltalake)"

    def __init__(self, root: str, storage_options: dict[str, str]) -> None:
        self.root, self.options = root.rstrip("/"), storage_options

    def write(self, table: str, df: pd.DataFrame, window: tuple[dt.datetime, dt.datetime]) -> None:
        from deltalake import write_deltalake

        start, end = (w.strftime("%Y-%m-%d %H:%M:%S") for w in window)
        write_deltalake(
            f"{self.root}/{table}",
            arrow(df),
            mode="overwrite",
            predicate=f"partition_date >= '{start}' AND partition_date < '{end}'",
            partition_by=["partition_date"],  # as the product's IO manager writes
            storage_options=self.options,
        )

    def read(self, table: str, window: tuple[dt.datetime, dt.datetime]) -> pd.DataFrame:
        import pyarrow.compute as pc
        from deltalake import DeltaTable

        data = DeltaTable(f"{self.root}/{table}", storage_options=self.options).to_pyarrow_dataset()
        column = pc.field("partition_date")
        return data.to_table(
            filter=(column >= pa.scalar(window[0], pa.timestamp("us")))
            & (column < pa.scalar(window[1], pa.timestamp("us")))
        ).to_pandas()


# -- Iceberg -----------------------------------------------------------------------------------------
class Iceberg:
    name = "Iceberg (pyiceberg, SQL catalog)"

    def __init__(self, catalog_uri: str, warehouse: str, properties: dict[str, str]) -> None:
        from pyiceberg.catalog.sql import SqlCatalog

        self.catalog = SqlCatalog("bench", uri=catalog_uri, warehouse=warehouse, **properties)
        self.namespace = f"bench_{uuid.uuid4().hex[:6]}"
        self.catalog.create_namespace(self.namespace)
        self.retries = 0
        self._lock = threading.Lock()

    def _table(self, table: str, schema: pa.Schema) -> Any:
        from pyiceberg.exceptions import TableAlreadyExistsError
        from pyiceberg.partitioning import PartitionField, PartitionSpec
        from pyiceberg.transforms import DayTransform

        ident = f"{self.namespace}.{table}"
        if not self.catalog.table_exists(ident):
            with contextlib.suppress(TableAlreadyExistsError):
                created = self.catalog.create_table(ident, schema=schema)
                source = created.schema().find_field("partition_date").field_id
                spec = PartitionSpec(PartitionField(source, 1000, DayTransform(), "partition_day"))
                with created.update_spec() as update:
                    update.add_field("partition_date", spec.fields[0].transform, spec.fields[0].name)
        return self.catalog.load_table(ident)

    def write(self, table: str, df: pd.DataFrame, window: tuple[dt.datetime, dt.datetime]) -> None:
        from pyiceberg import expressions as E
        from pyiceberg.exceptions import CommitFailedException

        data = arrow(df)
        where = E.And(
            E.GreaterThanOrEqual("partition_date", window[0].isoformat()),  # type: ignore[call-arg,arg-type]
            E.LessThan("partition_date", window[1].isoformat()),  # type: ignore[call-arg,arg-type]
        )
        for _ in range(20):  # what dagster-iceberg does: refresh and retry on a commit conflict
            try:
                self._table(table, data.schema).overwrite(data, overwrite_filter=where)
                return
            except CommitFailedException:
                with self._lock:
                    self.retries += 1
        raise RuntimeError("iceberg: 20 commit conflicts in a row")

    def read(self, table: str, window: tuple[dt.datetime, dt.datetime]) -> pd.DataFrame:
        from pyiceberg import expressions as E

        where = E.And(
            E.GreaterThanOrEqual("partition_date", window[0].isoformat()),  # type: ignore[call-arg,arg-type]
            E.LessThan("partition_date", window[1].isoformat()),  # type: ignore[call-arg,arg-type]
        )
        result: pd.DataFrame = (
            self.catalog.load_table(f"{self.namespace}.{table}").scan(row_filter=where).to_pandas()
        )
        return result


# -- DuckLake ----------------------------------------------------------------------------------------
def ducklake_available() -> str | None:
    """None when DuckDB can load DuckLake and httpfs here, else why not."""
    import duckdb

    con = duckdb.connect()
    for ext in ("ducklake", "httpfs"):
        try:
            con.execute(f"LOAD {ext}")
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            return f"duckdb {duckdb.__version__} cannot load `{ext}`: {first}"
    return None


# -- the work ----------------------------------------------------------------------------------------
@dataclass
class Result:
    candidate: str
    backend: str
    figures: dict[str, str] = field(default_factory=dict)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def measure(cand: Candidate, rows: int, days: int) -> dict[str, str]:
    out: dict[str, str] = {}
    one_day = sample(rows, 1)
    _, secs = _timed(lambda: cand.write("window", one_day, day_window(0)))
    got, rsecs = _timed(lambda: cand.read("window", day_window(0)))
    assert len(got) == rows, (len(got), rows)
    out["write 1-day window"], out["read 1-day window"] = f"{secs:.2f}", f"{rsecs:.2f}"

    spread = sample(rows, days)
    _, secs = _timed(lambda: cand.write("range", spread, day_window(0, days)))
    got, rsecs = _timed(lambda: cand.read("range", day_window(0, days)))
    assert len(got) == rows, (len(got), rows)
    out[f"write {days}-day range"], out[f"read {days}-day range"] = f"{secs:.2f}", f"{rsecs:.2f}"

    # A backfill of days 10-12 replaces exactly those days.
    redo = sample(rows, days, seed=2)
    redo = redo[(redo.partition_date >= day_window(10)[0]) & (redo.partition_date < day_window(12)[1])]
    cand.write("range", redo, day_window(10, 3))
    after = cand.read("range", day_window(0, days))
    inside = (after.partition_date >= day_window(10)[0]) & (after.partition_date < day_window(12)[1])
    ok = len(after) == rows and set(after[inside].seed) == {2} and set(after[~inside].seed) == {1}
    out["3-day backfill replaces only its days"] = "yes" if ok else f"NO ({len(after)} rows)"

    # Four writers of different days at once.
    errors: list[str] = []

    def writer(i: int) -> None:
        try:
            cand.write(
                "concurrent",
                sample(rows // 10, 1, seed=10 + i).assign(partition_date=day_window(i)[0]),
                day_window(i),
            )
        except Exception as exc:  # noqa: BLE001 - reported in the table
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")

    cand.write("concurrent", sample(1, 1).assign(partition_date=day_window(99)[0]), day_window(99))
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = cand.read("concurrent", day_window(0, 4))
    kept = sorted(set(final.seed))
    out["4 concurrent writers of different days"] = (
        "all 4 days kept" if kept == [10, 11, 12, 13] and not errors else f"kept {kept}; {errors[:1]}"
    )
    retries = getattr(cand, "retries", None)
    if retries is not None:
        out["4 concurrent writers of different days"] += f" ({retries} commit retries)"
    return out


@contextlib.contextmanager
def moto_s3() -> Iterator[tuple[str, str]]:
    """(endpoint, bucket) on moto's S3 server in a subprocess (delta-rs holds the GIL in some calls,
    so an in-process moto thread could not always answer)."""
    from hspc_pipelines_tests.support.moto_s3 import moto_s3_server

    with moto_s3_server() as moto:
        yield moto.endpoint, moto.bucket


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    from hspc_pipelines_tests.support.postgres import admin_connection, temporary_database

    with temporary_database(admin_connection(), "hspc_bench_store") as env:
        yield f"postgresql+psycopg2://{env['DAGSTER_PG_USER']}@{env['DAGSTER_PG_HOST']}:{env['DAGSTER_PG_PORT']}/{env['DAGSTER_PG_DB']}"


def run(rows: int, days: int) -> list[Result]:
    results: list[Result] = []
    local = Path(tempfile.mkdtemp(prefix="hspc-store-bench-"))
    try:
        results.append(
            Result(Delta.name, "local folder", measure(Delta(str(local / "delta"), {}), rows, days))
        )
        ice = Iceberg(f"sqlite:///{local / 'catalog.db'}", f"file://{local / 'iceberg'}", {})
        results.append(Result(Iceberg.name, "local folder + SQLite catalog", measure(ice, rows, days)))
        with moto_s3() as (endpoint, bucket), postgres_url() as pg:
            s3 = {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_ALLOW_HTTP": "true",
            }
            delta = Delta(f"s3://{bucket}/delta", s3)
            results.append(Result(Delta.name, "moto S3", measure(delta, rows, days)))
            ice = Iceberg(
                pg,
                f"s3://{bucket}/iceberg",
                {
                    "s3.endpoint": endpoint,
                    "s3.region": REGION,
                    "s3.access-key-id": "x",
                    "s3.secret-access-key": "x",
                },
            )
            results.append(Result(Iceberg.name, "moto S3 + PostgreSQL catalog", measure(ice, rows, days)))
    finally:
        shutil.rmtree(local, ignore_errors=True)
    why = ducklake_available()
    results.append(Result("DuckLake (DuckDB extension)", "-", {"runs here": why or "yes"}))
    return results


def table(results: list[Result]) -> str:
    keys: list[str] = []
    for r in results:
        keys += [k for k in r.figures if k not in keys]
    head = "| candidate | backend | " + " | ".join(keys) + " |"
    sep = "|" + "---|" * (len(keys) + 2)
    body = [
        f"| {r.candidate} | {r.backend} | " + " | ".join(r.figures.get(k, "-") for k in keys) + " |"
        for r in results
    ]
    return "\n".join([head, sep, *body])


# -- the end-to-end no-op reconcile, local default against the production store ---------------------
def e2e_noop(deals: int, log: Callable[[str], None]) -> dict[str, float]:
    """Wall seconds of the no-op re-run of `deals` pairs (after a first full reconcile), per store."""
    from benchmarks.harness import bench_stack, cosell_seed

    walls: dict[str, float] = {}
    for store in ("local", "s3"):
        with contextlib.ExitStack() as stack:
            env: dict[str, str] = {}
            if store == "s3":
                endpoint, bucket = stack.enter_context(moto_s3())
                # The stack's own moto (SQS, STS ...) keeps AWS_ENDPOINT_URL; S3 goes to this one.
                env = {"AWS_ENDPOINT_URL_S3": endpoint, "HSPC_ASSET_STORE_URL": f"s3://{bucket}/hspc"}
            bench = stack.enter_context(bench_stack(cosell_seed(deals), env=env))
            first, _, first_wall = bench.reconcile()
            assert first.success
            noop, calls, wall = bench.reconcile()
            assert noop.success and calls.pc_writes == 0 and calls.hubspot_writes() == 0
            walls[store] = wall
            log(f"{store} store: first reconcile {first_wall:.1f}s, no-op re-run {wall:.1f}s")
    return walls


MARK_START, MARK_END = "<!-- asset-store: start -->", "<!-- asset-store: end -->"


def results_section(results: list[Result], walls: dict[str, float] | None, argv: list[str]) -> str:
    lines = [MARK_START, "## Asset store (issue 14): `python -m benchmarks.storage`", ""]
    lines += [
        "Delta Lake chosen (docs/production.md). Seconds within this one run; compare across rows,",
        "never with another machine.",
        "",
        table(results),
        "",
    ]
    if walls:
        ratio = walls["s3"] / walls["local"]
        verdict = "pass" if ratio <= 1.5 else "MISS"
        lines += [
            "| figure | local default | production store (moto S3) | ratio | target | verdict |",
            "|---|---|---|---|---|---|",
            f"| end-to-end no-op reconcile wall (s), {argv_deals(argv)} pairs | {walls['local']:.1f} "
            f"| {walls['s3']:.1f} | {ratio:.2f}x | <= 1.5x | {verdict} |",
            "",
        ]
    lines += ["```bash", f".venv/bin/python -m benchmarks.storage {' '.join(argv)}".rstrip(), "```", MARK_END]
    return "\n".join(lines)


def argv_deals(argv: list[str]) -> str:
    return argv[argv.index("--e2e-deals") + 1] if "--e2e-deals" in argv else "?"


def write_section(section: str, path: Path) -> None:
    """Replace (or append) the asset-store section of RESULTS.md; benchmarks.run keeps it."""
    text = path.read_text() if path.exists() else ""
    if MARK_START in text:
        before, rest = text.split(MARK_START, 1)
        text = before + section + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    import logging
    import warnings

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=130)
    parser.add_argument(
        "--e2e-deals", type=int, default=0, help="also the end-to-end no-op reconcile at N pairs, per store"
    )
    parser.add_argument("--results", action="store_true", help="write the section of benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def log(msg: str) -> None:
        print(f"[storage {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    results = run(args.rows, args.days)
    print(table(results))
    walls = e2e_noop(args.e2e_deals, log) if args.e2e_deals else None
    section = results_section(results, walls, [a for a in argv if a != "--results"])
    print(section)
    if args.results:
        write_section(section, Path(__file__).with_name("RESULTS.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
