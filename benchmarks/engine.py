"""Engine only: plan N deal/opportunity pairs from frames, and print the figures.

`python -m benchmarks.engine [N]` (benchmarks/run.py calls it with N and reads the JSON on the last
line of stdout; a readable summary goes to stderr). The frames hold what a previous sync leaves
behind: each deal linked (`aws_opportunity_id` and the written-back Partner-Central-owned properties)
and its opportunity (the create request turned into a record, as the service stores it).

The input is built in a child process and handed over as a pickle, so that the seed, the bundles
and the create requests never count against the engine: this process only loads the two frames (as
the `sync_plan` asset receives them from its IO manager) and then does the asset's work, timed:
frames -> snapshots/records -> build_plan -> plan frame. `peak_rss_mb` is the peak of this process
(load + plan); `rss_before_timing_mb` its resident size once the frames are loaded.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CATALOG = "AWS"
SEED = 11
ROOT = Path(__file__).resolve().parent.parent


def _peak_rss_mb() -> float:
    """Peak resident size of this process image: VmHWM. (ru_maxrss also counts the parent's size
    at fork time, which Linux carries across exec: run from `benchmarks.run`, that is the whole
    harness.)"""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _rss_mb() -> float:
    """Resident size now (the peak so far is `_peak_rss_mb`)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux
        return _peak_rss_mb()


# -- the input (built in a child process) -------------------------------------------------------------


def _bundles(n: int) -> list[Any]:
    from hspc_pipelines.emulators.seed import generate_seed
    from hspc_pipelines.mapping import DealBundle

    data = generate_seed(n, SEED, junk_ratio=0.0, cosell_ratio=1.0)
    companies = {c["id"]: c["properties"] for c in data.companies}
    contacts = {c["id"]: c["properties"] for c in data.contacts}
    company_of: dict[str, str] = {}
    contacts_of: dict[str, list[str]] = {}
    for link in data.associations:
        if link["from"]["type"] != "deals":
            continue
        if link["to"]["type"] == "companies":
            company_of[link["from"]["id"]] = link["to"]["id"]
        elif link["to"]["type"] == "contacts":
            contacts_of.setdefault(link["from"]["id"], []).append(link["to"]["id"])
    out = []
    for deal in data.deals:
        cid = company_of.get(deal["id"])
        company = dict(companies[cid], hs_object_id=cid) if cid else None
        if company and company.get("country") == "Brasil":
            company["country"] = "Brazil"
        out.append(
            DealBundle(
                deal_id=deal["id"],
                deal=dict(deal["properties"]),
                company=company,
                contacts=[dict(contacts[c]) for c in contacts_of.get(deal["id"], [])],
            )
        )
    return out


def build_frames(n: int) -> tuple[Any, Any, Any]:
    """(deals frame, opportunities frame, mapping config) for n linked, converged pairs."""
    import datetime as dt

    from hspc_pipelines.emulators.stack import DEMO_MAPPING_CONFIG
    from hspc_pipelines.mapping import DealBundle, build_create_request, opportunity_to_deal_properties
    from hspc_pipelines.mapping.config import load_mapping_config
    from hspc_pipelines.partner_central.records import to_jsonable
    from hspc_pipelines.reconcile import frames
    from hspc_pipelines.reconcile.plan import DealSnapshot

    config = load_mapping_config(str(DEMO_MAPPING_CONFIG))
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    snaps, opps = [], []
    for i, bundle in enumerate(_bundles(n)):
        request = build_create_request(bundle, config, CATALOG).request
        if request is None:
            continue
        record = {k: v for k, v in request.items() if k not in ("ClientToken",)}
        record.update(
            Id=f"O{1_000_000 + i}",
            Arn=f"arn:aws:partnercentral:us-east-1::catalog/AWS/opportunity/O{1_000_000 + i}",
            CreatedDate=now,
            LastModifiedDate=now,
            LifeCycle={**(record.get("LifeCycle") or {}), "ReviewStatus": "Pending Submission"},
        )
        record = to_jsonable(record)
        deal = dict(bundle.deal)
        deal.update(opportunity_to_deal_properties(record, None, config, deal.get("pipeline")))
        deal.update(aws_sync_status="synced", aws_sync_error=None)
        snaps.append(
            DealSnapshot(
                bundle=DealBundle(bundle.deal_id, deal, bundle.company, bundle.contacts),
                partition_date="2025-12-31",
            )
        )
        opps.append((record, "2025-12-31", "counterpart"))
    return frames.deals_frame(snaps), frames.opportunities_frame(opps), config


def _input_key(n: int) -> str:
    """Cache key: N and the sources the input depends on (seed, mapping, frames, this file)."""
    digest = hashlib.sha256(str(n).encode())
    pkg = ROOT / "hspc_pipelines"
    sources = [Path(__file__), pkg / "emulators" / "seed.py", pkg / "emulators" / "demo_mapping.yaml"]
    sources += sorted((pkg / "mapping").rglob("*.py")) + sorted((pkg / "sync").glob("*.py"))
    for path in sources:
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def write_input(n: int, path: Path) -> None:
    deals_df, opps_df, config = build_frames(n)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump((deals_df, opps_df, config), fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def _input_file(n: int, cache: Path | None, log: Any) -> tuple[Path, bool]:
    """The pickled input for n pairs, built by a child process unless cached. (path, temporary?)"""
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        path = cache / f"engine-{n}-{_input_key(n)}.pkl"
        if path.exists():
            log(f"input: {path} (cached)")
            return path, False
    else:
        fd, name = tempfile.mkstemp(prefix=f"hspc-engine-{n}-", suffix=".pkl")
        os.close(fd)
        path = Path(name)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run(
        [sys.executable, "-m", "benchmarks.engine", "--write-input", str(path), str(n)],
        check=True,
        cwd=ROOT,
        env=env,
    )
    log(f"input: built {n} pairs in a child process in {time.perf_counter() - started:.1f} s -> {path}")
    return path, cache is None


# -- the measured process ------------------------------------------------------------------------------


def _plan_once(deals_df: Any, opps_df: Any, config: Any, store: Any) -> dict[str, Any]:
    """The `sync_plan` asset's work (hspc_pipelines/defs/reconcile/assets.py), split for timing:
    frames -> snapshots/records, the settled fingerprints from the state store, build_plan, the
    newly settled pairs back to the store, and the plan frame."""
    from hspc_pipelines.reconcile import frames
    from hspc_pipelines.reconcile.plan import build_plan
    from hspc_pipelines.reconcile.settled_store import keep_settled, load_settled

    start = time.perf_counter()
    cpu_start = time.process_time()
    records, partitions = frames.opportunity_records(opps_df)
    snapshots = frames.deal_snapshots(deals_df)
    t_frames = time.perf_counter() - start
    settled = load_settled(store, CATALOG, deals_df["deal_id"].astype(str))
    t_load = time.perf_counter() - start - t_frames
    rows = build_plan(snapshots, records, partitions, config, CATALOG, settled)
    t_plan = time.perf_counter() - start - t_frames - t_load
    recorded = keep_settled(store, CATALOG, rows)
    t_keep = time.perf_counter() - start - t_frames - t_load - t_plan
    plan_df = frames.plan_frame(rows)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    ops: dict[str, int] = {}
    for r in rows:
        ops[r.operation] = ops.get(r.operation, 0) + 1
    return {
        "seconds": round(total, 2),
        "seconds_frames_in": round(t_frames, 2),
        "seconds_settled_read": round(t_load, 2),
        "seconds_build_plan": round(t_plan, 2),
        "seconds_settled_write": round(t_keep, 2),
        "seconds_plan_frame": round(total - t_frames - t_load - t_plan - t_keep, 2),
        "cpu_seconds": round(cpu, 2),
        "operations": ops,
        "skipped": sum(1 for r in rows if r.skipped),
        "recorded": recorded,
        "plan_rows": len(plan_df),
    }


def measure(path: Path, log: Any = lambda _m: None, state_url: str | None = None) -> dict[str, Any]:
    """Load the frames, then time the `sync_plan` asset's work on them twice: the first plan (no
    settled pair yet: every pair is mapped, as after a new mapping file or release) and the re-plan
    of the unchanged pairs (the scheduled reconcile's case). The state store is a SQLite file unless
    `state_url` names another (PostgreSQL in production)."""
    from hspc_pipelines.state.store import SyncStateStore

    rss_start = _rss_mb()
    started = time.perf_counter()
    with path.open("rb") as fh:
        deals_df, opps_df, config = pickle.load(fh)
    seconds_load = time.perf_counter() - started
    gc.collect()
    rss_before = _rss_mb()
    log(
        f"loaded {len(deals_df)} deals, {len(opps_df)} opportunities in {seconds_load:.1f} s; RSS {rss_before:.0f} MB"
    )
    with tempfile.TemporaryDirectory(prefix="hspc-engine-state-") as tmp:
        store = SyncStateStore(state_url or f"sqlite:///{tmp}/state.sqlite")
        try:
            first = _plan_once(deals_df, opps_df, config, store)
            log(f"first plan (every pair mapped): {first}")
            gc.collect()
            again = _plan_once(deals_df, opps_df, config, store)
            log(f"re-plan (settled pairs skipped): {again}")
        finally:
            store.dispose()
    peak = _peak_rss_mb()
    return {
        "pairs": len(deals_df),
        **again,
        "first_plan": first,
        "state_store": "sqlite (temporary file)" if state_url is None else state_url.split(":")[0],
        "peak_rss_mb": round(peak, 1),
        "rss_before_timing_mb": round(rss_before, 1),
        "rss_interpreter_mb": round(rss_start, 1),
        "engine_rss_mb": round(peak - rss_before, 1),
        "seconds_load_input": round(seconds_load, 2),
        "input": "frames built in a child process, loaded from a pickle",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def summary(fig: dict[str, Any]) -> str:
    first = fig["first_plan"]
    return (
        f"engine: {fig['pairs']:,} pairs; re-plan {fig['seconds']} s ({fig['skipped']:,} settled pairs skipped; "
        f"frames->rows {fig['seconds_frames_in']} s, settled read {fig['seconds_settled_read']} s, "
        f"build_plan {fig['seconds_build_plan']} s, plan frame {fig['seconds_plan_frame']} s; CPU {fig['cpu_seconds']} s); "
        f"first plan {first['seconds']} s (build_plan {first['seconds_build_plan']} s, "
        f"settled write {first['seconds_settled_write']} s, {first['recorded']:,} recorded); "
        f"peak RSS {fig['peak_rss_mb']:.0f} MB (after loading the frames {fig['rss_before_timing_mb']:.0f} MB, "
        f"interpreter and imports {fig['rss_interpreter_mb']:.0f} MB); "
        f"operations {fig['operations']}; load average {fig['load_average']}"
    )


def main(
    n: int, cache: Path | None = None, quiet: bool = False, state_url: str | None = None
) -> dict[str, Any]:
    def log(msg: str) -> None:
        if not quiet:
            print(f"[engine] {msg}", file=sys.stderr, flush=True)

    path, temporary = _input_file(n, cache, log)
    try:
        fig = measure(path, log, state_url)
    finally:
        if temporary:
            path.unlink(missing_ok=True)
    log(summary(fig))
    return fig


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="?", type=int, default=100_000, help="deal/opportunity pairs (100000)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep the built input in this directory and reuse it (keyed by N and the sources)",
    )
    parser.add_argument("--quiet", action="store_true", help="no summary on stderr")
    parser.add_argument(
        "--state-url",
        default=None,
        help="SQLAlchemy URL of the state store (default: a temporary SQLite file)",
    )
    parser.add_argument("--write-input", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_input is not None:
        write_input(args.pairs, args.write_input)
        return 0
    print(json.dumps(main(args.pairs, args.cache, args.quiet, args.state_url)))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
