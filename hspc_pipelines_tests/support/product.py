"""The product in process against the emulator stack: a `Product` (its definitions and a Dagster
instance in a temporary DAGSTER_HOME, with direct access to the emulated systems as a person would
look), the `product` fixture that builds it, and a deal seeded the way the event-path tests use."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from hspc_pipelines.emulators.stack import HUBSPOT_CLIENT_ID, EmulatorStack
from hspc_pipelines.reconcile.runner import ReconcileOutcome, run_reconcile
from hspc_pipelines_tests.support.environment import FAST_ENV
from hspc_pipelines_tests.support.hubspot_http import hubspot_request
from hspc_pipelines_tests.support.partner_central import list_opportunities, partner_central_client

DEAL_ID = "7001"  # the deal `seed_deal` creates


@dataclass
class Product:
    stack: EmulatorStack
    home: Path
    instance: dg.DagsterInstance
    defs: dg.Definitions

    @property
    def today(self) -> str:
        return dt.datetime.now(dt.UTC).date().isoformat()

    def reconcile(
        self, *, since: str | None = None, dry_run: bool = False, run_config: dict[str, Any] | None = None
    ) -> ReconcileOutcome:
        return run_reconcile(
            dry_run=dry_run,
            since=since,
            today=self.today,
            run_config=run_config,
            instance=self.instance,
            defs=self.defs,
        )

    def materialize(self, *names: str, since: str | None = None) -> dg.ExecuteInProcessResult:
        """Run part of the reconcile graph (e.g. to stop before the write-back, as a crash would)."""
        job = self.defs.resolve_job_def("reconcile")
        kwargs: dict[str, Any] = {
            "instance": self.instance,
            "asset_selection": [dg.AssetKey(n) for n in names],
        }
        if since:
            kwargs["tags"] = {
                "dagster/asset_partition_range_start": since,
                "dagster/asset_partition_range_end": self.today,
            }
        else:
            kwargs["partition_key"] = self.today
        return job.execute_in_process(**kwargs)

    # -- direct access to the emulated systems, as a person would look ---------------------------

    def pc(self) -> Any:
        return partner_central_client(self.stack)

    def opportunities(self) -> list[dict[str, Any]]:
        return list_opportunities(self.pc())

    def hubspot(self, method: str, path: str, **kw: Any) -> Any:
        return hubspot_request(self.stack.env, method, path, **kw)

    def deal(self, deal_id: str, *props: str) -> dict[str, Any]:
        names = ",".join(props)
        return self.hubspot("GET", f"/crm/v3/objects/deals/{deal_id}?properties={names}")["properties"]

    def notes_on(self, deal_id: str) -> list[dict[str, Any]]:
        links = self.hubspot(
            "POST", "/crm/v4/associations/deals/notes/batch/read", json={"inputs": [{"id": deal_id}]}
        )["results"]
        ids = [str(t["toObjectId"]) for r in links for t in r["to"]]
        if not ids:
            return []
        return self.hubspot(
            "POST",
            "/crm/v3/objects/notes/batch/read",
            json={"inputs": [{"id": i} for i in ids], "properties": ["hs_note_body", "hspc_note_key"]},
        )["results"]

    def hubspot_calls(self) -> dict[str, int]:
        return dict(self.stack.hubspot.stats()["calls"])

    def pc_calls(self) -> dict[str, int]:
        emulator = self.stack.partner_central
        assert emulator is not None, "the stack runs no Partner Central emulator"
        return dict(emulator.stats()["calls"])


@contextmanager
def running_product(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Product]:
    """The product against a fresh emulator stack, its Dagster instance in `home` (what `product`
    gives each test; a module-scoped fixture can hold one for the tests that only read it)."""
    with EmulatorStack() as stack:
        for key, value in {**stack.env, **FAST_ENV, "DAGSTER_HOME": str(home)}.items():
            monkeypatch.setenv(key, value)
        from hspc_pipelines.definitions import build_defs

        with dg.instance_for_test(temp_dir=str(home)) as instance:
            yield Product(stack=stack, home=home, instance=instance, defs=build_defs(str(home)))


@pytest.fixture
def product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Product]:
    with running_product(tmp_path, monkeypatch) as running:
        yield running


@contextmanager
def app_product(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: Mapping[str, str] | None = None
) -> Iterator[Product]:
    """The product signed in to HubSpot only as the stack's developer-platform app (client-credentials
    tokens; no static token in its environment), with `extra` variables; `Product.hubspot` still acts
    as a person with the stack's token."""
    with EmulatorStack() as stack:
        env = {**stack.env, **FAST_ENV, "DAGSTER_HOME": str(tmp_path), "HUBSPOT_CLIENT_ID": HUBSPOT_CLIENT_ID}
        del env["HUBSPOT_ACCESS_TOKEN"]
        monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
        monkeypatch.delenv("HSPC_HUBSPOT_TOKEN_SSM_PARAMETER", raising=False)
        for key, value in {**env, **(extra or {})}.items():
            monkeypatch.setenv(key, value)
        from hspc_pipelines.definitions import build_defs

        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            yield Product(stack=stack, home=tmp_path, instance=instance, defs=build_defs(str(tmp_path)))


def seed_deal(product: Product, deal_id: str = DEAL_ID) -> None:
    """One co-sell deal with its company and contact in the HubSpot emulator, modified now."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    product.stack.hubspot.load_seed(
        {
            "objects": {
                "companies": [
                    {
                        "id": "9001",
                        "properties": {
                            "name": "Acme Analytics",
                            "domain": "acme.example",
                            "industry": "COMPUTER_SOFTWARE",
                            "country": "USA",
                            "city": "Seattle",
                            "state": "WA",
                            "zip": "98101",
                        },
                    }
                ],
                "contacts": [
                    {
                        "id": "8001",
                        "properties": {
                            "firstname": "Ada",
                            "lastname": "Lovelace",
                            "email": "ada@acme.example",
                            "jobtitle": "CTO",
                            "phone": "+1 206-555-0100",
                        },
                    }
                ],
                "deals": [
                    {
                        "id": deal_id,
                        "properties": {
                            "dealname": "Acme data platform migration #AWS",
                            "amount": "25000",
                            "dealstage": "qualifiedtobuy",
                            "pipeline": "default",
                            "closedate": "2027-03-31T00:00:00.000Z",
                            "deal_currency_code": "USD",
                            "description": "Acme needs to move its on-premises analytics cluster to a managed AWS service.",
                            "hs_lastmodifieddate": now,
                            "createdate": now,
                        },
                    }
                ],
            },
            "associations": [
                {
                    "from": {"type": "deals", "id": deal_id},
                    "to": {"type": "companies", "id": "9001"},
                    "types": [5, 341],
                },
                {
                    "from": {"type": "deals", "id": deal_id},
                    "to": {"type": "contacts", "id": "8001"},
                    "types": [3],
                },
            ],
        }
    )


def queue_depth(product: Product) -> int:
    """Messages on the events queue, in flight included."""
    sqs = product.stack.aws_client("sqs")
    attrs = sqs.get_queue_attributes(
        QueueUrl=product.stack.env["HSPC_EVENTS_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
