"""Runs queued on a real Dagster daemon during a long first load (issue 19): `python -m benchmarks.quotas
--scenarios daemon` (or `python -m benchmarks.quotas_daemon`).

What runs: the emulator stack (Partner Central paced at `rate` writes/s and 10x reads, no daily quota),
the ingress (`hspc ingress`), and `dagster dev` (its `dagster-daemon run` child runs the schedules,
sensors and the QueuedRunCoordinator) in a fresh DAGSTER_HOME with the repository's dagster.yaml
(`hspc/writes` limit 1). The reconcile schedule ticks every minute (`* * * * *`, the shortest cron:
the 15-minute tick scaled x15), so a run's budget period is 60 s (HSPC_RUN_BUDGET_SECONDS unset: the
time between ticks); the other schedules are moved 12 hours away. `deals` co-sell deals changed today
are in HubSpot from the start: the first load needs several budget periods at `rate` writes/s.

During the load, `events` more co-sell deals are created one at a time and their signed `deal.creation`
webhooks POSTed to the ingress: the events sensor starts `sync_deals` runs, which queue on the same
`hspc/writes` slot as the reconcile runs.

Sampled every second from the instance (`get_runs_count`): reconcile runs QUEUED and STARTED. Reported
as counts and budget periods: the most reconcile runs queued at once (target <= 2); for each event run,
its time in the queue (created -> started) and each webhook's latency (accepted -> its opportunity's
CreatedDate, read from the emulator in process, not through the paced API), in budget periods.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from benchmarks.latency import DagsterDev, Deals, Ingress, Sample, _send, product_env
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines.history import SyncHistory

GAVE_WAY = "this run left the writes slot to it"  # a reconcile row's reason (quotas/run.py)
TICK_SECONDS = 60.0  # "* * * * *": the budget period of every run here
QUEUED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
RUNNING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _stamp(minutes_ago: float = 30.0) -> str:
    """Changed today, before now: in today's partition, which each reconcile tick reconciles."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    if at.date() != dt.datetime.now(dt.UTC).date():
        at = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=1)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _load_first(stack: EmulatorStack, deals: Deals, ids: list[str]) -> None:
    """The first-load deals, all in HubSpot at once (with their companies' and contacts' links)."""
    stamp = _stamp()
    by_id = {d["id"]: d for d in deals.data.deals}
    stack.hubspot.load_seed(
        {
            "objects": {
                "deals": [
                    {
                        "id": i,
                        "properties": {
                            **by_id[i]["properties"],
                            "createdate": stamp,
                            "hs_lastmodifieddate": stamp,
                        },
                    }
                    for i in ids
                ]
            },
            "associations": [link for i in ids for link in deals.links[i]],
        }
    )


class Created:
    """CreatedDate of each opportunity by partner identifier, read from the emulator's store in process
    (no API call: the product's read quota is left to the product)."""

    def __init__(self, stack: EmulatorStack) -> None:
        assert stack.partner_central is not None, "the stack is started"
        self.emulator = stack.partner_central

    def by_identifier(self) -> dict[str, float]:
        with self.emulator.lock:
            records = list(self.emulator.ctx.stores["AWS"].opportunities.values())
        out: dict[str, float] = {}
        for record in records:
            ident, created = record.get("PartnerOpportunityIdentifier"), record.get("CreatedDate")
            if ident:
                out[str(ident)] = (
                    created.timestamp()
                    if isinstance(created, dt.datetime)
                    else dt.datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp()
                )
        return out


class Sampler:
    """Reconcile runs queued and running, every `every` seconds, from the instance."""

    def __init__(self, home: Path, every: float = 1.0) -> None:
        self.instance = dg.DagsterInstance.from_config(str(home))
        self.every = every
        self.samples: list[tuple[float, int, int]] = []  # (epoch, queued, running)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-sampler", daemon=True)
        self._thread.start()

    def _count(self, statuses: list[dg.DagsterRunStatus]) -> int:
        return int(self.instance.get_runs_count(dg.RunsFilter(job_name="reconcile", statuses=statuses)))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.time(), self._count(QUEUED), self._count(RUNNING)))
            except Exception:  # SQLite busy while the daemon writes: the next sample counts
                self.errors += 1
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def runs(self, job: str) -> list[Any]:
        return list(self.instance.get_run_records(dg.RunsFilter(job_name=job)))


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def daemon_scenario(
    log: Callable[[str], None],
    deals: int = 400,
    events: int = 12,
    rate: float = 2.0,
    timeout: float = 1_800.0,
    keep: bool = False,
    seed: int = 29,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="hspc-quota-daemon-"))
    home = work / "dagster_home"
    try:
        with EmulatorStack(pc_writes_per_second=rate, pc_reads_per_second=10 * rate) as stack:
            pool = Deals(stack, deals + events, seed)
            first, later = pool.ids[:deals], pool.ids[deals:]
            _load_first(stack, pool, first)
            env = product_env(stack, home, product_schedules=False)
            env.update(
                HSPC_RECONCILE_CRON="* * * * *",
                HSPC_PC_WRITES_PER_SECOND=str(rate),
                HSPC_PC_READS_PER_SECOND=str(10 * rate),
            )
            secret = stack.env["HUBSPOT_CLIENT_SECRET"]
            ingress = Ingress(env, work)
            dev: DagsterDev | None = None
            sampler: Sampler | None = None
            try:
                t0 = time.time()
                dev = DagsterDev(home, env, work).start()
                how, _ = dev.ensure_sensor_running()
                log(
                    f"daemon: dagster dev up in {time.time() - t0:.0f} s; events_sensor {how}; {deals} deals to load"
                )
                sampler = Sampler(home)
                created = Created(stack)
                sent: list[Sample] = []
                wanted = {f"HUBSPOT-{i}" for i in pool.ids}
                # the events start once the first reconcile run is going, and are spread over the load
                # the budget expects (writes at `rate`, 80% of each period)
                spacing = max(deals / (rate * 0.8) / max(events, 1), 5.0)
                next_event, load_started = None, None
                deadline = time.time() + timeout
                while time.time() < deadline:
                    done = created.by_identifier()
                    if load_started is None and sampler.samples and sampler.samples[-1][2] > 0:
                        load_started = time.time()
                        next_event = load_started + 5.0
                        log("daemon: the first reconcile run started")
                    if next_event is not None and later and time.time() >= next_event:
                        sent.append(_send(ingress, pool, later.pop(0), secret, lambda _m: None))
                        next_event += spacing
                    if wanted <= done.keys() and not later:
                        break
                    if not dev.alive():
                        raise RuntimeError("dagster dev exited:\n" + dev.log_tail())
                    if int(time.time()) % 60 == 0:
                        log(f"daemon: {len(done)} of {len(wanted)} opportunities; {len(sent)} events sent")
                    time.sleep(1.0)
                time.sleep(2.0)
                done = created.by_identifier()
                sampler.stop()
                reconcile_runs, event_runs = sampler.runs("reconcile"), sampler.runs("sync_deals")
            finally:
                if sampler is not None:
                    sampler.stop()
                if dev is not None:
                    dev.close()
                ingress.proc.stop()
        samples = sampler.samples if sampler is not None else []
        gave_way = _runs_that_gave_way(home, reconcile_runs)
        latencies = [
            (done[f"HUBSPOT-{s.deal_id}"] - s.accepted) / TICK_SECONDS
            for s in sent
            if f"HUBSPOT-{s.deal_id}" in done
        ]
        waits = [
            (r.start_time - r.create_timestamp.timestamp()) / TICK_SECONDS
            for r in event_runs
            if r.start_time is not None
        ]
        load_s = (max(done.values()) - load_started) if done and load_started else None
        return {
            "deals": deals,
            "events": len(sent),
            "writes_per_second": rate,
            "budget_period_s": TICK_SECONDS,
            "first_load_created": sum(1 for i in first if f"HUBSPOT-{i}" in done),
            "event_deals_created": len(latencies),
            "load_budget_periods": round(load_s / TICK_SECONDS, 2) if load_s else None,
            "reconcile_runs": len(reconcile_runs),
            "reconcile_runs_by_status": _by_status(reconcile_runs),
            "samples": len(samples),
            "sample_errors": sampler.errors if sampler is not None else 0,
            "max_reconcile_queued": max((q for _, q, _ in samples), default=0),
            "max_reconcile_in_flight": max((q + r for _, q, r in samples), default=0),
            "reconcile_runs_that_gave_way": gave_way,
            "event_runs": len(event_runs),
            "event_run_queue_wait_max_periods": round(max(waits, default=0.0), 2),
            "event_run_queue_wait_p95_periods": round(_p95(waits), 2),
            "event_runs_waiting_over_one_period": sum(1 for w in waits if w > 1.0),
            "event_latency_p95_periods": round(_p95(latencies), 2),
            "event_latency_max_periods": round(max(latencies, default=0.0), 2),
        }
    finally:
        if keep:
            log(f"daemon: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _runs_that_gave_way(home: Path, runs: list[Any]) -> int:
    """Reconcile runs whose rows the sync history shows deferred for a run with priority (they gave the
    writes slot up to an event run waiting behind them)."""
    history = SyncHistory.from_url(f"sqlite:///{home / 'hspc_state.sqlite'}")
    try:
        return sum(
            1
            for r in runs
            if any(GAVE_WAY in (row.message or "") for row in history.run_rows(r.dagster_run.run_id))
        )
    finally:
        history.dispose()


def _by_status(records: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.dagster_run.status.value] = out.get(r.dagster_run.status.value, 0) + 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quotas_daemon", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--deals", type=int, default=400)
    parser.add_argument("--events", type=int, default=12)
    parser.add_argument("--rate", type=float, default=2.0, help="Partner Central writes per second")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, DAGSTER_HOME)")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(f"[daemon {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    figures = daemon_scenario(log, args.deals, args.events, args.rate, keep=args.keep)
    print(json.dumps(figures))
    return 0 if figures["max_reconcile_queued"] <= 2 and figures["event_latency_p95_periods"] <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
