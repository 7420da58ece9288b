"""Shared machinery: an emulator stack seeded with co-sell deals, the product pointed at it through
Dagster (a temporary DAGSTER_HOME), and call counters read from the emulators themselves."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.storage.defs_state.base import set_defs_state_storage

from hspc_pipelines.emulators.partner_central import PartnerCentralEmulator
from hspc_pipelines.emulators.seed import SeedData, anchor_now, generate_seed
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines.reconcile.runner import ReconcileOutcome, run_reconcile
from hspc_pipelines_tests.support.hubspot_http import hubspot_request

# The product's pacing when the emulators have no quota (as in the e2e tests).
FAST_ENV = {
    "HSPC_PC_WRITES_PER_SECOND": "100000",
    "HSPC_PC_READS_PER_SECOND": "100000",
    "HSPC_HUBSPOT_REQUESTS_PER_10S": "1000000",
    "HSPC_HUBSPOT_SEARCH_PER_SECOND": "100000",
}
# Partner Central operations that count against the write quota (the emulator's own list).
from hspc_pipelines.emulators.partner_central.quotas import WRITE_OPERATIONS  # noqa: E402

UNMAPPED_COUNTRIES = {"Brasil": "Brazil"}
SINCE_DAYS = 130  # the seed's dates fall in the last 120 days
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def cosell_seed(n_deals: int, seed: int = 7, recent: bool = False) -> SeedData:
    """`generate_seed` with every deal co-sell and valid, then shaped to the issue's scenario:
    each deal has a company (10% share one, as in the generator) and exactly two contacts.
    `recent`: every deal modified an hour ago, so a 2-day range covers them (smoke runs)."""
    data = generate_seed(n_deals, seed, junk_ratio=0.0, cosell_ratio=1.0, now_ms=anchor_now())
    for company in data.companies:  # the one country spelling the mapping refuses: keep every deal valid
        if company["properties"].get("country") in UNMAPPED_COUNTRIES:
            company["properties"]["country"] = UNMAPPED_COUNTRIES[company["properties"]["country"]]
    if recent:
        stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="milliseconds")
        for deal in data.deals:
            deal["properties"]["createdate"] = deal["properties"]["hs_lastmodifieddate"] = stamp.replace(
                "+00:00", "Z"
            )
    contacts = {c["id"]: c for c in data.contacts}
    next_id = max((int(c) for c in contacts), default=40_000_000_000) + 1
    by_deal: dict[str, list[dict[str, Any]]] = {}
    others = []
    for link in data.associations:
        if link["from"]["type"] == "deals" and link["to"]["type"] == "contacts":
            by_deal.setdefault(link["from"]["id"], []).append(link)
        else:
            others.append(link)
    deal_links = []
    for deal in data.deals:
        links = by_deal.get(deal["id"], [])[:2]
        while len(links) < 2:
            source = contacts[links[0]["to"]["id"]]
            clone_id = str(next_id)
            next_id += 1
            props = dict(source["properties"])
            props["email"] = f"second.{clone_id[-6:]}@example.com"
            data.contacts.append({"id": clone_id, "properties": props})
            links.append(
                {
                    "from": {"type": "deals", "id": deal["id"]},
                    "to": {"type": "contacts", "id": clone_id},
                    "types": [3],
                }
            )
        deal_links += links
    data.associations = others + deal_links
    return data


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def since(days: int = SINCE_DAYS) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


@dataclass
class Calls:
    """Calls counted by the emulators between two snapshots."""

    hubspot: dict[str, int] = field(default_factory=dict)
    hubspot_statuses: dict[str, int] = field(default_factory=dict)
    pc: dict[str, int] = field(default_factory=dict)
    pc_errors: dict[str, int] = field(default_factory=dict)

    @property
    def hubspot_total(self) -> int:
        return sum(self.hubspot.values())

    @property
    def pc_total(self) -> int:
        return sum(self.pc.values())

    @property
    def pc_writes(self) -> int:
        return sum(n for op, n in self.pc.items() if op in WRITE_OPERATIONS)

    @property
    def pc_reads(self) -> int:
        return self.pc_total - self.pc_writes

    def hubspot_writes(self) -> int:
        return sum(n for ep, n in self.hubspot.items() if not _hubspot_read(ep))

    def per_deal_hubspot_reads(self) -> int:
        """GETs of single objects: what a per-deal read pattern costs."""
        return sum(
            n
            for ep, n in self.hubspot.items()
            if ep.startswith(("GET /crm/v3/objects/", "GET /crm/objects/")) and "{id}" in ep
        )

    def throttled(self) -> int:
        return int(self.hubspot_statuses.get("429", 0)) + int(self.pc_errors.get("ThrottlingException", 0))


def _hubspot_read(endpoint: str) -> bool:
    return endpoint.startswith("GET ") or endpoint.endswith(("/batch/read", "/search"))


class Bench:
    """An emulator stack plus the product (Dagster definitions and instance) pointed at it."""

    def __init__(
        self,
        stack: EmulatorStack,
        home: str,
        pacing: dict[str, str],
        days: int = SINCE_DAYS,
        env: dict[str, str] | None = None,
    ) -> None:
        self.stack, self.home, self.days = stack, home, days
        self._saved: dict[str, str | None] = {}
        for key, value in {**stack.env, **pacing, "DAGSTER_HOME": home, **(env or {})}.items():
            self._saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        from hspc_pipelines.definitions import build_defs

        self.instance = dg.DagsterInstance.local_temp(tempdir=home)
        # Load and resolve the definitions against this instance's defs-state storage, not whichever
        # one the process used last (in the test suite, an earlier test's deleted instance).
        with set_defs_state_storage(self.instance.defs_state_storage):
            self.defs = build_defs(home)
            self.defs.get_repository_def()

    def restore_env(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    @property
    def partner_central(self) -> PartnerCentralEmulator:
        """The stack's Partner Central emulator (started with the stack, so never None here)."""
        assert self.stack.partner_central is not None, "the emulator stack is not running"
        return self.stack.partner_central

    def reset_stats(self) -> None:
        self.stack.hubspot.reset_stats()
        self.partner_central.reset_stats()

    def calls(self) -> Calls:
        hs, pc = self.stack.hubspot.stats(), self.partner_central.stats()
        return Calls(
            hubspot=dict(hs["calls"]),
            hubspot_statuses=dict(hs["statuses"]),
            pc=dict(pc["calls"]),
            pc_errors=dict(pc["errors"]),
        )

    def reconcile(self) -> tuple[ReconcileOutcome, Calls, float]:
        """One reconcile of the seed's whole range; (outcome, calls it made, wall seconds)."""
        self.reset_stats()
        start = time.perf_counter()
        outcome = run_reconcile(
            since=since(self.days), today=today(), instance=self.instance, defs=self.defs, run_config=QUIET
        )
        wall = time.perf_counter() - start
        return outcome, self.calls(), wall

    def step_seconds(self, run_id: str, step_key: str) -> float | None:
        for stat in self.instance.get_run_step_stats(run_id):
            if stat.step_key == step_key and stat.start_time and stat.end_time:
                return float(stat.end_time - stat.start_time)
        return None

    def hubspot(self, method: str, path: str, **kw: Any) -> Any:
        return hubspot_request(self.stack.env, method, path, **kw)


# Dagster's instance storage for the benchmark runs: "postgres" (what production runs, see
# deploy/dagster.local-postgres.yaml) or "sqlite" (the local default). Set with --storage.
STORAGE = os.environ.get("HSPC_BENCH_STORAGE", "postgres")
PG_URL = os.environ.get("HSPC_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@contextmanager
def _instance_yaml(home: str) -> Iterator[None]:
    """dagster.yaml for the run, on a fresh PostgreSQL database when STORAGE is postgres."""
    text = "telemetry:\n  enabled: false\n"
    if STORAGE != "postgres":
        with open(os.path.join(home, "dagster.yaml"), "w") as fh:
            fh.write(text)
        yield
        return
    import sqlalchemy as sa

    db = f"hspc_bench_{os.getpid()}_{int(time.time() * 1000) % 10**9}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
    url = sa.make_url(PG_URL).set(database=db, drivername="postgresql+psycopg2")
    with open(os.path.join(home, "dagster.yaml"), "w") as fh:
        fh.write(
            text + f"storage:\n  postgres:\n    postgres_url: {url.render_as_string(hide_password=False)}\n"
        )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def bench_stack(
    seed: SeedData,
    *,
    pacing: dict[str, str] | None = None,
    days: int = SINCE_DAYS,
    env: dict[str, str] | None = None,
    **stack_kwargs: Any,
) -> Iterator[Bench]:
    """Start the emulators, load `seed` into HubSpot and build the product against them.

    Partner Central's events are not delivered to the queue unless `deliver_events=True`: nothing
    reads it in these runs, and moto, which runs in this process, would spend the run scanning the
    backlog (40% of a 10,000-pair no-op's CPU samples went to its SQS visibility checks).
    `env`: more variables for the product (benchmarks/storage.py: the asset store on S3)."""
    stack_kwargs.setdefault("deliver_events", False)
    home = tempfile.mkdtemp(prefix="hspc-bench-")
    try:
        with _instance_yaml(home), EmulatorStack(**stack_kwargs) as stack:
            stack.hubspot.load_seed(seed)
            bench = Bench(stack, home, pacing or FAST_ENV, days, env)
            try:
                yield bench
            finally:
                bench.instance.dispose()
                bench.restore_env()
    finally:
        shutil.rmtree(home, ignore_errors=True)
