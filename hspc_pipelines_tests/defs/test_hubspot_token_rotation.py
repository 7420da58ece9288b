"""Rotating the HubSpot token in SSM during a run fails nothing (issue 20): the client re-reads the
parameter once after a 401 and retries. Real HTTP to the HubSpot emulator, moto's SSM over HTTP."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from hspc_pipelines.defs.resources import HubSpotResource
from hspc_pipelines.emulators._server import free_port, serve_in_thread
from hspc_pipelines.emulators.hubspot.app import HubSpotEmulator
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError

OLD = "pat-na1-old-0b4f6a2e-11aa"
NEW = "pat-na1-new-7c9d3e1f-22bb"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def ssm(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """A SecureString holding OLD; boto3 (through dagster-aws) finds moto by AWS_ENDPOINT_URL_SSM."""
    for key, value in {
        "AWS_ENDPOINT_URL_SSM": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("ssm", region_name=REGION, endpoint_url=moto_url)
    name = f"/hspc/hubspot/token-{uuid.uuid4().hex[:8]}"
    client.put_parameter(Name=name, Value=OLD, Type="SecureString")
    return client, name


@pytest.fixture
def hubspot() -> Iterator[tuple[HubSpotEmulator, str]]:
    emulator = HubSpotEmulator(access_tokens=(OLD,))
    with serve_in_thread(emulator.app) as server:
        yield emulator, server.url


def test_rotating_the_token_in_ssm_during_a_run_fails_nothing(ssm, hubspot) -> None:
    (ssm_client, name), (emulator, url) = ssm, hubspot
    client = HubSpotResource(access_token_ssm_parameter=name, base_url=url, region=REGION).get_client()
    created = client.batch_create("deals", [{"properties": {"dealname": f"Deal {i}"}} for i in range(20)])
    ids = [r["id"] for r in created.results]
    assert created.ok and len(ids) == 20
    rotated = threading.Event()

    def rotate() -> None:
        # The operator's rotation: the new token in SSM, and HubSpot no longer accepting the old one.
        ssm_client.put_parameter(Name=name, Value=NEW, Type="SecureString", Overwrite=True)
        emulator.access_tokens = frozenset({NEW})
        rotated.set()

    def step(i: int) -> str:
        if i == 40:  # half way through, while the other workers have calls in flight
            rotate()
        deal = client.get_object("deals", ids[i % len(ids)], ["dealname"])
        if i % 10 == 9:
            client.update_object("deals", deal["id"], {"description": f"step {i}"})
        return str(deal["properties"]["dealname"])

    with ThreadPoolExecutor(4) as pool:  # the run's write workers share one client
        names = list(pool.map(step, range(80)))
    assert rotated.is_set() and names == [f"Deal {i % 20}" for i in range(80)]
    # Each 401 was a call in flight with the old token, retried once with the new one.
    assert 1 <= client.stats.statuses[401] <= 4
    assert {s for s in client.stats.statuses if s >= 400} == {401}  # and nothing else failed
    assert client.get_object("deals", ids[0])["id"] == ids[0]


def test_a_revoked_token_is_a_401_after_one_re_read_not_a_loop(ssm, hubspot) -> None:
    (_, name), (emulator, url) = ssm, hubspot
    client = HubSpotResource(access_token_ssm_parameter=name, base_url=url, region=REGION).get_client()
    emulator.access_tokens = frozenset({NEW})  # revoked in HubSpot, SSM still holds the old token
    with pytest.raises(HubSpotError) as info:
        client.get_object("deals", "1")
    assert info.value.status == 401 and OLD not in str(info.value)
    assert client.stats.statuses[401] == 1  # re-read the same token: no second attempt


def test_a_token_from_the_environment_is_not_re_read(hubspot) -> None:
    emulator, url = hubspot
    client = HubSpotClient(OLD, url)
    emulator.access_tokens = frozenset({NEW})
    with pytest.raises(HubSpotError):
        client.get_object("deals", "1")
    assert client.stats.statuses[401] == 1


def test_an_unreadable_parameter_leaves_the_401(hubspot, caplog) -> None:
    emulator, url = hubspot

    def broken() -> str:
        raise ConnectionError("ssm.example: refused")

    client = HubSpotClient(OLD, url, token_provider=broken)
    emulator.access_tokens = frozenset({NEW})
    with pytest.raises(HubSpotError) as info:
        client.get_object("deals", "1")
    assert info.value.status == 401
    assert any("could not be re-read: ConnectionError" in r.getMessage() for r in caplog.records)
