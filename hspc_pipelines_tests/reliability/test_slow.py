"""Slow and hung services (issue 9): answers later than the client timeout are retried, and a service
that never answers in time ends the call with a clear error within a bounded time, never a hang."""

from __future__ import annotations

import time

import boto3
import pytest

from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import PartnerCentralError

DELAY = 2.0  # the emulator's slow answer
TIMEOUT = 0.4  # the client's read timeout


@pytest.fixture(scope="module")
def stack():
    with EmulatorStack() as s:
        yield s


def _hubspot(stack, retries=3):
    return HubSpotClient(
        stack.env["HUBSPOT_ACCESS_TOKEN"],
        stack.env["HUBSPOT_BASE_URL"],
        timeout=(1, TIMEOUT),
        max_retries=retries,
    )


def _pc(stack, attempts=3):
    return PartnerCentralClient(
        "AWS",
        endpoint_url=stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"],
        reads_per_second=1000,
        writes_per_second=1000,
        read_timeout=TIMEOUT,
        connect_timeout=1,
        max_attempts=attempts,
        boto3_session=boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ),
    )


def test_hubspot_answer_later_than_the_timeout_is_retried(stack):
    deal = _hubspot(stack).create_object("deals", {"dealname": "Slow #AWS"})
    stack.hubspot.set_faults(
        schedule=["slow", "slow"], delay_seconds=3 * DELAY, match="GET /crm/objects/2026-09/deals/"
    )
    client = _hubspot(stack)
    started = time.monotonic()
    got = client.get_object("deals", deal["id"], ["dealname"])
    elapsed = time.monotonic() - started
    stack.hubspot.set_faults(None)
    assert got["properties"]["dealname"] == "Slow #AWS"
    assert sum(client.stats.retries.values()) == 2, client.stats.snapshot()
    assert elapsed < 3 * DELAY, f"waited {elapsed:.1f}s: the slow answers were awaited instead of retried"


def test_hubspot_that_never_answers_in_time_fails_within_budget(stack):
    stack.hubspot.set_faults(
        rate=1.0, kinds=["slow"], delay_seconds=DELAY, match="GET /crm/objects/2026-09/deals"
    )
    client = _hubspot(stack, retries=2)
    started = time.monotonic()
    with pytest.raises(HubSpotError) as err:
        list(client.list_objects("deals"))
    elapsed = time.monotonic() - started
    stack.hubspot.set_faults(None)
    assert err.value.status == 0 and "timed out" in str(err.value).lower(), str(err.value)
    assert stack.env["HUBSPOT_ACCESS_TOKEN"] not in str(err.value)
    # 3 attempts of TIMEOUT each plus urllib3's backoff (0 + 1 s): bounded, far from a hang.
    assert elapsed < 3 * TIMEOUT + 1.0 + 2.0, elapsed


def test_partner_central_answer_later_than_the_timeout_is_retried(stack):
    stack.partner_central.set_faults(
        schedule=["slow", "slow"], delay_seconds=DELAY, operations=["ListSolutions"]
    )
    client = _pc(stack, attempts=4)
    started = time.monotonic()
    solutions = list(client.list_solutions())
    elapsed = time.monotonic() - started
    stack.partner_central.set_faults()
    assert solutions, "the third attempt answered"
    assert client.stats.snapshot()["attempts"]["ListSolutions"] == 3, client.stats.snapshot()
    assert elapsed < 2 * DELAY, elapsed


def test_partner_central_that_never_answers_in_time_fails_within_budget(stack):
    stack.partner_central.set_faults(
        rate=1.0, kinds=["slow"], delay_seconds=DELAY, operations=["ListSolutions"]
    )
    client = _pc(stack, attempts=3)
    started = time.monotonic()
    with pytest.raises(PartnerCentralError) as err:
        list(client.list_solutions())
    elapsed = time.monotonic() - started
    stack.partner_central.set_faults()
    assert "Timeout" in err.value.code, err.value
    assert elapsed < 3 * TIMEOUT + 3.0, elapsed
