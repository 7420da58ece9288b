"""Scenario 7: webhook accepted -> opportunity created in Partner Central, with `dagster dev` running.

`python -m benchmarks.latency [--samples N] [--interval S]` (or `make bench`, which calls `run()`).
`python -m benchmarks.latency --journal [--samples N]`: the webhooks journal against the push path in
the same run (`run_journal()`, below: in process, counted in sensor ticks).

What runs, all on this machine:
- the emulator stack (HubSpot, Partner Central, moto for SQS / EventBridge / STS / SSM / S3);
- the ingress as a real HTTP server (`hspc ingress`, uvicorn) in a subprocess;
- `dagster dev` (webserver, daemon, code server) in a subprocess with its own temporary DAGSTER_HOME
  (the repository's dagster.yaml: SQLite, QueuedRunCoordinator, `hspc/writes` limit 1) and the
  stack's environment; `events_sensor` is RUNNING by default (started through GraphQL if it is not).

The product's schedules are moved 12 hours away (`--product-schedules` keeps them): the 15-minute
reconcile of today's partition would otherwise create the same opportunities and hide the event path.

One warm-up deal goes first and is not counted (the first run also creates the HubSpot custom
properties). Then N new co-sell deals (`benchmarks.harness.cosell_seed`, every deal valid for
creation) are created in the HubSpot emulator one at a time, `--interval` seconds apart, each
followed at once by its signed `deal.creation` webhook POSTed to the ingress. A sample is
accepted = the moment the ingress answered 200, created = the opportunity's `CreatedDate` in
Partner Central (its `PartnerOpportunityIdentifier` is HUBSPOT-<deal id>); a poller checks
ListOpportunities every 0.5 s and cross-checks the time it first saw it.

Each sample is then split, from the sensor's ticks (GraphQL) and the run's events (the instance):
wait for the sensor's next tick, tick evaluation up to the run's creation, time in the run queue,
launch (run worker process start to RUN_START), the steps before `scoped_creates` (the event runs
are `sync_deals` runs), and the create step up to CreatedDate. Latencies of deals with no
opportunity by the deadline count as infinite in the percentiles.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from benchmarks.harness import FAST_ENV, cosell_seed
from hspc_pipelines.emulators._server import free_port
from hspc_pipelines.emulators.seed import SeedData
from hspc_pipelines.emulators.stack import HUBSPOT_CLIENT_ID, EmulatorStack
from hspc_pipelines_tests.support.dagster_dev import LOCATION, DevServer
from hspc_pipelines_tests.support.environment import product_env as support_env
from hspc_pipelines_tests.support.partner_central import partner_central_client
from hspc_pipelines_tests.support.processes import kill_group, log_tail, start_in_group, venv_bin, wait_for
from hspc_pipelines_tests.support.webhooks import deal_creation_batch, post_signed

REPOSITORY = "__repository__"
SENSOR = "events_sensor"
CREATE_STEP = "scoped_creates"  # the create step of the sync_deals runs events start
TARGET_P50, TARGET_P95 = 45.0, 90.0
# `make bench` calls run() with no arguments; this variable shrinks it (smoke runs).
DEFAULT_SAMPLES = int(os.environ.get("HSPC_BENCH_LATENCY_SAMPLES", "12"))
DEFAULT_INTERVAL = 5.0
DEFAULT_TIMEOUT = 300.0  # after the last webhook, how long to wait for the remaining opportunities
POLL_SECONDS = 0.5
PHASES = (  # (key, column, what)
    ("sensor_wait", "wait", "accepted -> sensor tick start"),
    ("tick", "tick", "tick start -> run created"),
    ("queued", "queue", "run created -> RUN_STARTING (run queue daemon)"),
    ("launch", "launch", "RUN_STARTING -> RUN_START (run worker process)"),
    ("steps_before_create", "steps", "RUN_START -> scoped_creates start"),
    ("create_step", "create", "scoped_creates start -> CreatedDate"),
)

SENSOR_QUERY = """
query($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { minIntervalSeconds sensorState { status
        ticks(limit: 500) { tickId status timestamp endTimestamp runIds } } }
    ... on PythonError { message }
  }
}
"""
START_SENSOR = """
mutation($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status } }
    ... on PythonError { message }
  }
}
"""


# Journal mode: the webhooks journal against the push path, in the same run ----------------------------
#
# Each co-sell deal is created through HubSpot's API (the emulator writes its journal entry) and its
# signed `deal.creation` webhook is posted to the ingress (queued on SQS). Then both sensors are
# evaluated in rounds, as the daemon would at the same interval (`HSPC_HUBSPOT_EVENTS_SOURCE=both`),
# alternating which goes first, until each has requested a `sync_deals` run covering the deal. The
# latency of each path is the number of its ticks until then, and the seconds from the webhook's
# acceptance to the end of that tick; the runs themselves are the same job either way and are not
# launched. The emulator publishes an entry the moment the write is made: HubSpot's own publishing
# delay is not known and not in these figures. hspc signs in as the stack's developer-platform app
# (client credentials, the only tokens the journal takes) and subscribes the journal to deals first,
# as `hspc bootstrap --journal` does.


@dataclass
class PathSample:
    deal_id: str
    ticks: dict[str, int] = field(default_factory=dict)  # sensor -> ticks until its run request
    seconds: dict[str, float] = field(default_factory=dict)  # sensor -> accepted -> that tick's end


@dataclass
class JournalLatency:
    samples: list[PathSample]
    hubspot_calls_per_journal_tick: float
    max_rounds: int

    def median(self, sensor: str, what: str = "seconds") -> float:
        values = [getattr(s, what).get(sensor, float("inf")) for s in self.samples]
        return percentile([float(v) for v in values], 50)

    @property
    def ratio(self) -> float:
        """Median journal latency over median push latency (seconds, same run)."""
        push = self.median(SENSOR)
        return self.median(JOURNAL_SENSOR) / push if push else float("inf")

    @property
    def missing(self) -> int:
        return sum(1 for s in self.samples if len(s.ticks) < 2)

    def __str__(self) -> str:
        return (
            f"journal/push latency ratio {self.ratio:.2f} (median {_s(self.median(JOURNAL_SENSOR))} vs "
            f"{_s(self.median(SENSOR))}; ticks {self.median(JOURNAL_SENSOR, 'ticks'):.0f} vs "
            f"{self.median(SENSOR, 'ticks'):.0f}; n={len(self.samples)}, {self.missing} missed within "
            f"{self.max_rounds} rounds; HubSpot calls per journal tick "
            f"{self.hubspot_calls_per_journal_tick:.1f})"
        )


JOURNAL_SENSOR = "journal_sensor"
READ_ONLY = frozenset({"createdate", "hs_lastmodifieddate"})  # HubSpot sets these itself


def _api_deal(stack: EmulatorStack, deals: Deals, deal_id: str) -> str:
    """Create the seed's deal through HubSpot's API (a journal entry, as a seller's edit would make);
    its new id."""
    deal = next(d for d in deals.data.deals if d["id"] == deal_id)
    links = [
        {
            "to": {"id": a["to"]["id"]},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t} for t in a["types"]],
        }
        for a in deals.links[deal_id]
    ]
    resp = requests.post(
        stack.env["HUBSPOT_BASE_URL"] + "/crm/v3/objects/deals",
        json={
            "properties": {k: v for k, v in deal["properties"].items() if k not in READ_ONLY},
            "associations": links,
        },
        headers={"Authorization": f"Bearer {stack.env['HUBSPOT_ACCESS_TOKEN']}"},
        timeout=30,
    )
    if resp.status_code != 201:
        raise RuntimeError(f"HubSpot emulator answered {resp.status_code}: {resp.text[:300]}")
    return str(resp.json()["id"])


def run_journal(
    samples: int = 8, *, max_rounds: int = 5, seed: int = 0, quiet: bool = False
) -> JournalLatency:
    import dagster as dg

    from hspc_pipelines.definitions import build_defs

    log = _log(quiet)
    with EmulatorStack() as stack, _workdir(False, log) as work:
        home = work / "dagster_home"
        home.mkdir()
        env = product_env(stack, home, product_schedules=False)
        # The journal takes client-credentials tokens only: hspc signs in as the stack's app.
        env |= {
            "HSPC_HUBSPOT_EVENTS_SOURCE": "both",
            "HSPC_EVENTS_TICK_BUDGET_SECONDS": "1",
            "HUBSPOT_CLIENT_ID": HUBSPOT_CLIENT_ID,
        }
        env.pop("HUBSPOT_ACCESS_TOKEN", None)
        saved = dict(os.environ)
        os.environ.pop("HUBSPOT_ACCESS_TOKEN", None)
        os.environ.update(env)  # the sensors read the settings when they tick, in this process
        ingress = Ingress(env, work)
        try:
            _subscribe_journal(stack)
            defs = build_defs(str(home))
            with dg.DagsterInstance.ephemeral() as instance:
                result = _journal_rounds(stack, defs, instance, ingress, samples, max_rounds, seed, log)
        finally:
            ingress.proc.stop()
            os.environ.clear()
            os.environ.update(saved)
    return result


def _subscribe_journal(stack: EmulatorStack) -> None:
    """What `hspc bootstrap --journal` does: the journal records the deal changes hspc reacts to."""
    from hspc_pipelines.hubspot.client import HubSpotClient
    from hspc_pipelines.hubspot.journal_subscription import ensure_deal_subscription

    client = HubSpotClient.from_env()
    try:
        ensure_deal_subscription(client, stack.hubspot.state.portal_id)
    finally:
        client.close()


def _journal_rounds(
    stack: EmulatorStack,
    defs: Any,
    instance: Any,
    ingress: Ingress,
    samples: int,
    max_rounds: int,
    seed: int,
    log: Callable[[str], None],
) -> JournalLatency:
    import dagster as dg

    cursors: dict[str, str | None] = {SENSOR: None, JOURNAL_SENSOR: None}
    journal_calls: list[int] = []

    def tick(name: str) -> list[dg.RunRequest]:
        before = stack.hubspot.stats()["total"]
        with dg.build_sensor_context(
            instance=instance, cursor=cursors[name], definitions=defs, resources=defs.resources
        ) as context:  # entered, as the daemon does: a resource may tear down
            result = defs.resolve_sensor_def(name)(context)
        if name == JOURNAL_SENSOR:
            journal_calls.append(stack.hubspot.stats()["total"] - before)
        if isinstance(result, dg.SensorResult):
            cursors[name] = result.cursor
            return list(result.run_requests or [])
        return []

    for name in cursors:  # the journal sensor's first tick sets its starting point
        tick(name)
    deals = Deals(stack, samples, seed=seed)
    out: list[PathSample] = []
    secret = stack.env["HUBSPOT_CLIENT_SECRET"]
    for n, seed_id in enumerate(deals.ids):
        deal_id = _api_deal(stack, deals, seed_id)
        resp = ingress.post_webhook(deal_creation_batch([(deal_id, 10**9 + n)]), secret)
        accepted = time.time()
        if resp.status_code != 200:
            raise RuntimeError(f"ingress answered {resp.status_code} for deal {deal_id}")
        sample = PathSample(deal_id)
        order = [SENSOR, JOURNAL_SENSOR] if n % 2 == 0 else [JOURNAL_SENSOR, SENSOR]
        for round_ in range(1, max_rounds + 1):
            for name in order:
                if name in sample.ticks:
                    continue
                runs = tick(name)
                if any(deal_id in _scope(r) for r in runs):
                    sample.ticks[name], sample.seconds[name] = round_, time.time() - accepted
            if len(sample.ticks) == 2:
                break
        log(
            f"deal {deal_id}: ticks {sample.ticks}, seconds { {k: round(v, 3) for k, v in sample.seconds.items()} }"
        )
        out.append(sample)
    per_tick = statistics.mean(journal_calls[1:]) if len(journal_calls) > 1 else 0.0
    return JournalLatency(out, per_tick, max_rounds)


def _scope(request: Any) -> list[str]:
    if request.job_name != "sync_deals":
        return []
    return list(request.run_config["ops"]["scoped_snapshot"]["config"]["deal_ids"])


# Results ---------------------------------------------------------------------------------------------


@dataclass
class Sample:
    deal_id: str
    sent: float  # epoch seconds
    accepted: float  # the ingress answered 200
    created: float | None = None  # the opportunity's CreatedDate
    seen: float | None = None  # when the poller first listed it
    opportunity_id: str | None = None
    run_id: str | None = None
    run_deals: int = 0  # deals in the run's scope
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def latency(self) -> float:
        return float("inf") if self.created is None else self.created - self.accepted


@dataclass
class LatencyResult:
    """What `benchmarks.run` puts in its table (str()), with the figures behind it."""

    samples: list[Sample]
    warmup: Sample | None
    p50: float
    p95: float
    max: float
    missing: int
    phase_medians: dict[str, float] = field(default_factory=dict)
    step_medians: dict[str, float] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    sensor_interval: int | None = None

    @property
    def ok(self) -> bool:
        return self.p50 < TARGET_P50 and self.p95 < TARGET_P95

    def __str__(self) -> str:
        text = f"{_s(self.p50)} / {_s(self.p95)} (max {_s(self.max)}, n={len(self.samples)}"
        if self.missing:
            text += f", {self.missing} never created"
        return text + ")"

    def as_dict(self) -> dict[str, Any]:
        return {
            "p50_s": _r(self.p50),
            "p95_s": _r(self.p95),
            "max_s": _r(self.max),
            "missing": self.missing,
            "samples": [
                {
                    "deal_id": s.deal_id,
                    "latency_s": _r(s.latency),
                    "poll_seen_s": _r(s.seen - s.accepted) if s.seen else None,
                    "run_id": s.run_id,
                    "run_deals": s.run_deals,
                    **{k: _r(v) for k, v in s.phases.items()},
                }
                for s in self.samples
            ],
            "warmup_latency_s": _r(self.warmup.latency) if self.warmup else None,
            "phase_medians_s": {k: _r(v) for k, v in self.phase_medians.items()},
            "step_medians_s": {k: _r(v) for k, v in self.step_medians.items()},
            "runs": self.runs,
            "sensor_min_interval_s": self.sensor_interval,
        }


def _r(value: float) -> float | None:
    return None if value == float("inf") else round(value, 2)


def _s(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.1f} s"


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); inf stays inf."""
    if not values:
        return float("inf")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    if ordered[hi] == float("inf"):
        return float("inf") if pos > lo or ordered[lo] == float("inf") else ordered[lo]
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# Processes -------------------------------------------------------------------------------------------


class Proc:
    """A subprocess in its own process group (run workers and code servers included), log to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.log_path = name, logs / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.proc = start_in_group(args, env, self._log)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return log_tail(self.log_path, chars)

    def stop(self, grace: float = 15.0) -> None:
        kill_group(self.proc, grace)
        self._log.close()


def product_env(stack: EmulatorStack, home: Path, product_schedules: bool) -> dict[str, str]:
    """The environment of the ingress and of Dagster's processes: the stack's variables, fast pacing."""
    env = support_env(stack, home, pacing=FAST_ENV, PYTHONUNBUFFERED="1")
    if not product_schedules:
        now = dt.datetime.now(dt.UTC)
        away = f"{(now.minute + 30) % 60} {(now.hour + 12) % 24} * * *"
        env.update(
            HSPC_RECONCILE_CRON=away,
            HSPC_INVITATIONS_CRON=away,
            HSPC_AWS_SUMMARIES_CRON=away,
            HSPC_NIGHTLY_SWEEP_HOUR_UTC=str((now.hour + 12) % 24),
        )
    return env


class Ingress:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The webhooks need no token, but the ingress does not start without one (docs/security.md).
        env = {
            **env,
            "HSPC_PUBLIC_URL": self.url,
            "HSPC_INGRESS_API_TOKENS": f"bench:{secrets.token_urlsafe(32)}",
        }
        self.proc = Proc("ingress", [venv_bin("hspc"), "ingress", "--port", str(self.port)], env, logs)
        try:
            wait_for("the ingress", self._up, 60, interval=0.3, error=TimeoutError)
        except BaseException:
            self.proc.stop()
            raise

    def _up(self) -> bool:
        if not self.proc.alive():
            raise RuntimeError("hspc ingress exited:\n" + self.proc.tail())
        with contextlib.suppress(requests.RequestException):
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        return False

    def post_webhook(self, body: bytes, secret: str) -> requests.Response:
        return post_signed(self.url, body, secret, timeout=30)


class DagsterDev(DevServer):
    """`dagster dev` on a loopback port; GraphQL for the workspace, the sensor and its ticks."""

    error = RuntimeError  # a benchmark, not a test: failures are errors, not failed assertions
    load_timeout = 240.0
    stop_grace = 20.0

    def __init__(self, home: Path, env: dict[str, str], logs: Path) -> None:
        super().__init__(home, env, logs / "dagster-dev.log")

    @property
    def selector(self) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "sensorName": SENSOR}

    def sensor(self) -> dict[str, Any]:
        data = self.graphql(SENSOR_QUERY, {"selector": self.selector})["sensorOrError"]
        if data["__typename"] != "Sensor":
            raise RuntimeError(f"{SENSOR}: {data}")
        return dict(data)

    def ensure_sensor_running(self) -> tuple[str, int]:
        """(how it came to run, its minimum interval): the product's default status, or started here."""
        data = self.sensor()
        interval = int(data["minIntervalSeconds"])
        if data["sensorState"]["status"] == "RUNNING":
            return "default_status RUNNING", interval
        started = self.graphql(START_SENSOR, {"selector": self.selector})["startSensor"]
        if started["__typename"] != "Sensor" or started["sensorState"]["status"] != "RUNNING":
            raise RuntimeError(f"could not start {SENSOR}: {started}")
        return "started through GraphQL", interval


# HubSpot deals and Partner Central -------------------------------------------------------------------


def _iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Deals:
    """The seed's companies and contacts exist from the start; each deal is created when it is sent."""

    def __init__(self, stack: EmulatorStack, n: int, seed: int) -> None:
        self.stack = stack
        self.data: SeedData = cosell_seed(n, seed=seed)
        deal_ids = {d["id"] for d in self.data.deals}
        self.links = {d: [a for a in self.data.associations if a["from"]["id"] == d] for d in deal_ids}
        other_links = [a for a in self.data.associations if a["from"]["id"] not in deal_ids]
        stack.hubspot.load_seed(
            {
                "objects": {"companies": self.data.companies, "contacts": self.data.contacts},
                "associations": other_links,
                "pipelines": self.data.pipelines,
            }
        )
        self._event_id = random.randint(10**9, 2 * 10**9)

    @property
    def ids(self) -> list[str]:
        return [d["id"] for d in self.data.deals]

    def create(self, deal_id: str) -> bytes:
        """Put the deal in HubSpot as created now; return its `deal.creation` webhook batch."""
        deal = next(d for d in self.data.deals if d["id"] == deal_id)
        now = _iso_now()
        props = {**deal["properties"], "createdate": now, "hs_lastmodifieddate": now}
        self.stack.hubspot.load_seed(
            {
                "objects": {"deals": [{"id": deal_id, "properties": props}]},
                "associations": self.links[deal_id],
            }
        )
        self._event_id += 1
        return deal_creation_batch([(deal_id, self._event_id)])


class OpportunityPoller:
    """ListOpportunities every POLL_SECONDS: first-seen time and CreatedDate per partner identifier."""

    def __init__(self, stack: EmulatorStack) -> None:
        self.client = partner_central_client(stack)
        self.catalog = stack.env.get("PARTNER_CENTRAL_CATALOG", "AWS")
        self.found: dict[str, tuple[float, float, str]] = {}  # identifier -> (seen, created, id)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="opportunity-poller", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # the emulator under load: keep polling
                self.errors += 1
            self._stop.wait(POLL_SECONDS)

    def poll(self) -> None:
        token = None
        while True:
            kw: dict[str, Any] = {"Catalog": self.catalog, "MaxResults": 100}
            if token:
                kw["NextToken"] = token
            page = self.client.list_opportunities(**kw)
            now = time.time()
            for o in page["OpportunitySummaries"]:
                ident = o.get("PartnerOpportunityIdentifier")
                if ident and ident not in self.found:
                    created = o.get("CreatedDate")
                    stamp = created.timestamp() if isinstance(created, dt.datetime) else now
                    self.found[ident] = (now, stamp, o["Id"])
            token = page.get("NextToken")
            if not token:
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


# Attribution -----------------------------------------------------------------------------------------


def _run_timeline(instance: Any, run_id: str) -> dict[str, Any]:
    from dagster._core.events import DagsterEventType as T

    wanted = {
        T.RUN_ENQUEUED,
        T.RUN_DEQUEUED,
        T.RUN_STARTING,
        T.RUN_START,
        T.RUN_SUCCESS,
        T.RUN_FAILURE,
        T.STEP_START,
        T.STEP_SUCCESS,
        T.STEP_FAILURE,
    }
    events: dict[str, float] = {}
    steps: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id, of_type=wanted):
        kind = entry.get_dagster_event().event_type
        if kind in (T.STEP_START, T.STEP_SUCCESS, T.STEP_FAILURE):
            steps.setdefault(str(entry.step_key), []).append(entry.timestamp)
        else:
            events.setdefault(kind.value, entry.timestamp)
    return {
        "events": events,
        "steps": {k: (min(v), max(v)) for k, v in steps.items()},
    }


def attribute(
    samples: list[Sample], home: Path, ticks: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Fill each sample's run and phases; return the event runs' summaries and median step times."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        records = instance.get_run_records(dg.RunsFilter(tags={"dagster/sensor_name": SENSOR}))
        tick_of = {rid: t for t in ticks for rid in t.get("runIds") or []}
        runs: list[dict[str, Any]] = []
        by_deal: dict[str, dict[str, Any]] = {}
        step_times: dict[str, list[float]] = {}
        for rec in sorted(records, key=lambda r: r.create_timestamp.timestamp()):
            run = rec.dagster_run
            config: dict[str, Any] = dict(run.run_config or {})
            ops: dict[str, Any] = config.get("ops") or {}
            scope = ops.get("scoped_snapshot", {}).get("config", {})  # sync_deals runs (events)
            opp_scope = scope
            timeline = _run_timeline(instance, run.run_id)
            tick = tick_of.get(run.run_id)
            summary = {
                "run_id": run.run_id,
                "job": run.job_name,
                "status": run.status.value,
                "deal_ids": list(scope.get("deal_ids") or []),
                "opportunity_ids": list(opp_scope.get("opportunity_ids") or []),
                "created": rec.create_timestamp.timestamp(),
                "tick_start": tick["timestamp"] if tick else None,
                "tick_end": tick.get("endTimestamp") if tick else None,
                **timeline,
            }
            runs.append(summary)
            for key, (start, end) in timeline["steps"].items():
                step_times.setdefault(key, []).append(end - start)
            for deal_id in summary["deal_ids"]:
                by_deal.setdefault(deal_id, summary)
        for s in samples:
            r = by_deal.get(s.deal_id)
            if r is None or s.created is None:
                continue
            s.run_id, s.run_deals = r["run_id"], len(r["deal_ids"])
            ev, steps = r["events"], r["steps"]
            tick_start = r["tick_start"] if r["tick_start"] is not None else r["created"]
            points = [
                ("sensor_wait", s.accepted, tick_start),
                ("tick", tick_start, r["created"]),
                ("queued", r["created"], ev.get("PIPELINE_DEQUEUED", ev.get("PIPELINE_STARTING"))),
                (
                    "launch",
                    ev.get("PIPELINE_DEQUEUED", ev.get("PIPELINE_STARTING")),
                    ev.get("PIPELINE_START"),
                ),
                (
                    "steps_before_create",
                    ev.get("PIPELINE_START"),
                    (steps.get(CREATE_STEP) or (None,))[0],
                ),
                ("create_step", (steps.get(CREATE_STEP) or (None,))[0], s.created),
            ]
            for name, start, end in points:
                if start is not None and end is not None:
                    s.phases[name] = end - start
        medians = {k: statistics.median(v) for k, v in step_times.items()}
        for r in runs:  # relative, rounded: for the JSON report
            base = r["created"]
            r["events"] = {k: round(v - base, 2) for k, v in r["events"].items()}
            r["steps"] = {k: [round(a - base, 2), round(b - base, 2)] for k, (a, b) in r["steps"].items()}
            for key in ("tick_start", "tick_end"):
                if r[key] is not None:
                    r[key] = round(r[key] - base, 2)
            r["created"] = dt.datetime.fromtimestamp(base, dt.UTC).isoformat(timespec="milliseconds")
        return runs, medians
    finally:
        instance.dispose()


# The benchmark ---------------------------------------------------------------------------------------


def _log(quiet: bool) -> Callable[[str], None]:
    def log(msg: str) -> None:
        if not quiet:
            print(f"[latency {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    return log


def _send(ingress: Ingress, deals: Deals, deal_id: str, secret: str, log: Callable[[str], None]) -> Sample:
    body = deals.create(deal_id)
    sent = time.time()
    resp = ingress.post_webhook(body, secret)
    accepted = time.time()
    if resp.status_code != 200:
        raise RuntimeError(f"ingress answered {resp.status_code} for deal {deal_id}: {resp.text[:300]}")
    log(f"deal {deal_id}: webhook accepted in {1000 * (accepted - sent):.0f} ms")
    return Sample(deal_id, sent, accepted)


def _collect(samples: list[Sample], poller: OpportunityPoller, prefix: str = "HUBSPOT-") -> None:
    for s in samples:
        hit = poller.found.get(prefix + s.deal_id)
        if hit:
            s.seen, s.created, s.opportunity_id = hit


@contextlib.contextmanager
def _workdir(keep: bool, log: Callable[[str], None]) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="hspc-latency-"))
    try:
        yield work
    finally:
        if keep:
            log(f"kept {work} (dagster-dev.log, ingress.log, dagster_home/)")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(
    samples: int = DEFAULT_SAMPLES,
    interval: float = DEFAULT_INTERVAL,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    warmup: bool = True,
    product_schedules: bool = False,
    keep: bool = False,
    quiet: bool = False,
    seed: int = 23,
) -> LatencyResult:
    """Measure `samples` webhook -> opportunity latencies; see the module docstring."""
    if samples < 1:
        raise ValueError("samples must be >= 1")
    log = _log(quiet)
    with _workdir(keep, log) as work, EmulatorStack() as stack:
        deals = Deals(stack, samples + (1 if warmup else 0), seed)
        env = product_env(stack, work / "dagster_home", product_schedules)
        secret = stack.env["HUBSPOT_CLIENT_SECRET"]
        ingress = Ingress(env, work)
        dev: DagsterDev | None = None
        poller: OpportunityPoller | None = None
        try:
            log(f"ingress on {ingress.url}; starting dagster dev (DAGSTER_HOME {work / 'dagster_home'})")
            t0 = time.monotonic()
            dev = DagsterDev(work / "dagster_home", env, work).start()
            how, sensor_interval = dev.ensure_sensor_running()
            log(f"dagster dev up in {time.monotonic() - t0:.0f} s on {dev.url}; {SENSOR} {how}")
            poller = OpportunityPoller(stack)
            ids = deals.ids
            warm: Sample | None = None
            if warmup:
                warm = _send(ingress, deals, ids.pop(0), secret, log)
                found, wanted = poller.found, "HUBSPOT-" + warm.deal_id
                wait_for(
                    "the warm-up opportunity",
                    lambda: wanted in found,
                    timeout,
                    POLL_SECONDS,
                    error=TimeoutError,
                )
                _collect([warm], poller)
                log(f"warm-up deal {warm.deal_id}: {_s(warm.latency)} (not counted)")
            out: list[Sample] = []
            start = time.monotonic()
            for i, deal_id in enumerate(ids):
                delay = start + i * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                out.append(_send(ingress, deals, deal_id, secret, log))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                _collect(out, poller)
                if all(s.created is not None for s in out):
                    break
                if not dev.alive():
                    raise RuntimeError("dagster dev exited:\n" + dev.log_tail())
                time.sleep(POLL_SECONDS)
            _collect(out, poller)
            time.sleep(1.0)  # let the last tick's record settle before reading ticks
            ticks = dev.sensor()["sensorState"]["ticks"]
            runs, step_medians = attribute(out, dev.home, ticks)
        finally:
            if poller is not None:
                poller.stop()
            if dev is not None:
                dev.close()
            ingress.proc.stop()
    latencies = [s.latency for s in out]
    phase_medians = {
        name: statistics.median(vals)
        for name, _, _ in PHASES
        if (vals := [s.phases[name] for s in out if name in s.phases])
    }
    result = LatencyResult(
        samples=out,
        warmup=warm,
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        max=max(latencies),
        missing=sum(1 for s in out if s.created is None),
        phase_medians=phase_medians,
        step_medians=step_medians,
        runs=runs,
        sensor_interval=sensor_interval,
    )
    if not quiet:
        print(report(result), file=sys.stderr, flush=True)
    return result


def report(result: LatencyResult) -> str:
    head = f"{'deal':>12} {'latency':>8} {'polled':>7} {'run':>9} {'deals':>5}  " + " ".join(
        f"{col:>7}" for _, col, _ in PHASES
    )
    lines = ["", "webhook accepted -> opportunity created (seconds)", head]
    for s in result.samples:
        polled = f"{s.seen - s.accepted:7.1f}" if s.seen else f"{'-':>7}"
        phases = " ".join(f"{s.phases[n]:7.1f}" if n in s.phases else f"{'-':>7}" for n, _, _ in PHASES)
        run = (s.run_id or "-")[:8]
        lat = f"{s.latency:8.1f}" if s.created else f"{'never':>8}"
        lines.append(f"{s.deal_id:>12} {lat} {polled} {run:>9} {s.run_deals:>5}  {phases}")
    lines.append("")
    lines.append(
        f"p50 {_s(result.p50)} (target < {TARGET_P50:.0f} s), p95 {_s(result.p95)} "
        f"(target < {TARGET_P95:.0f} s), max {_s(result.max)}, n={len(result.samples)}, "
        f"missing {result.missing}" + (f"; warm-up {_s(result.warmup.latency)}" if result.warmup else "")
    )
    lines.append("median per phase:")
    lines += [
        f"  {col:>7}  {result.phase_medians.get(name, float('nan')):5.1f} s  {desc}"
        for name, col, desc in PHASES
    ]
    lines.append(
        "median step time in event runs: "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(result.step_medians.items(), key=lambda kv: -kv[1]))
    )
    jobs: dict[str, int] = {}
    for r in result.runs:
        jobs[r["job"]] = jobs.get(r["job"], 0) + 1
    lines.append(
        f"event runs: {len(result.runs)} ({', '.join(f'{k} {v}' for k, v in jobs.items())}); "
        f"sensor minimum interval {result.sensor_interval} s"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="deals / webhooks measured")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between webhooks")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="wait after the last webhook")
    parser.add_argument("--no-warmup", action="store_true", help="count the first deal too")
    parser.add_argument(
        "--product-schedules", action="store_true", help="keep the product's schedules (they reconcile too)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary DAGSTER_HOME and logs")
    parser.add_argument("--json", type=Path, help="write every figure (samples, phases, runs) to this file")
    parser.add_argument(
        "--journal", action="store_true", help="the webhooks journal against the push path (in process)"
    )
    args = parser.parse_args(argv)
    if args.journal:
        journal = run_journal(args.samples)
        print(journal)
        return 0 if journal.missing == 0 else 1
    result = run(
        args.samples,
        args.interval,
        timeout=args.timeout,
        warmup=not args.no_warmup,
        product_schedules=args.product_schedules,
        keep=args.keep,
    )
    if args.json:
        args.json.write_text(json.dumps(result.as_dict(), indent=2))
    print(result)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
