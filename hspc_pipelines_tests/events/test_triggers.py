"""Who asked for a submission travels from the queue message to the run's config (issue 20, audit):
the ingress token's id from a submit request, the HubSpot user from a webhook's sourceId."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.cosell.submission.request import hubspot_user_actor, requester_from_history
from hspc_pipelines.events.coalesce import SUBMIT, coalesce
from hspc_pipelines.events.triggers import triggers_for
from hspc_pipelines.queue.envelope import SUBMIT_REQUEST, api_token_actor, encode_envelope
from hspc_pipelines.queue.receive import ReceivedMessage

RECEIVED = dt.datetime(2026, 12, 6, 1, 2, 3, tzinfo=dt.UTC)


def message(body: str) -> ReceivedMessage:
    return ReceivedMessage("m-1", "r-1", body, 1)


def webhook(**fields: Any) -> str:
    event = {
        "objectId": 55,
        "subscriptionType": "deal.propertyChange",
        "eventId": 9,
        "occurredAt": int(RECEIVED.timestamp() * 1000),
        "propertyName": "aws_submit_requested",
        "propertyValue": "true",
        **fields,
    }
    return encode_envelope("hubspot_webhook", json.dumps([event]).encode(), path="/webhook/hubspot")


def submit_config(body: str) -> dict[str, Any]:
    (intent,) = [i for i in coalesce(triggers_for(message(body), "AWS")) if i.job == SUBMIT]
    config: dict[str, Any] = intent.run_config["ops"]["submission"]["config"]
    return config


def test_a_submit_request_names_its_token_and_arrival_in_the_run_config() -> None:
    body = encode_envelope(
        SUBMIT_REQUEST,
        b'{"dealId": "12", "involvementType": "Co-Sell", "visibility": "Full"}',
        received_at=RECEIVED,
        requested_by=api_token_actor("crm-button"),
    )
    config = submit_config(body)
    assert config.pop("request_id")  # the envelope's id: the caller's requestId (the answers' key)
    assert config == {
        "deal_id": "12",
        "involvement_type": "Co-Sell",
        "visibility": "Full",
        "requested_by": "api-token:crm-button",
        "requested_at": RECEIVED.isoformat(),
    }


def test_a_message_from_before_the_audit_starts_the_same_run_as_before() -> None:
    body = encode_envelope(SUBMIT_REQUEST, b'{"dealId": "12"}', received_at=RECEIVED)
    assert set(submit_config(body)) == {"deal_id", "involvement_type", "visibility", "request_id"}


def test_a_person_ticking_the_box_in_hubspot_is_named_from_the_webhook() -> None:
    config = submit_config(webhook(changeSource="CRM_UI", sourceId="userId:77"))
    assert (config["requested_by"], config["requested_at"]) == ("hubspot-user:77", RECEIVED.isoformat())


def test_an_integration_setting_the_property_names_nobody_so_the_run_reads_the_history() -> None:
    config = submit_config(webhook(changeSource="INTEGRATION", sourceId="1160452"))
    assert "requested_by" not in config and "requested_at" not in config


def test_hubspot_user_actor() -> None:
    assert hubspot_user_actor("userId:123") == "hubspot-user:123"
    assert hubspot_user_actor(None, 456) == "hubspot-user:456"
    for source in ("1160452", "userId:", "userId:12x", None, 5):
        assert hubspot_user_actor(source) is None


def _version(value: str, minute: int, user: int | None) -> dict[str, Any]:
    stamp = dt.datetime(2026, 12, 6, 0, minute, tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")
    version: dict[str, Any] = {
        "value": value,
        "timestamp": stamp,
        "sourceType": "CRM_UI" if user else "INTEGRATION",
    }
    if user:
        version |= {"sourceId": f"userId:{user}", "updatedByUserId": user}
    return version


_VERSIONS = st.lists(
    st.builds(
        _version,
        st.sampled_from(["true", "false", "TRUE", ""]),
        st.integers(0, 59),
        st.one_of(st.none(), st.integers(1, 10**9)),
    ),
    max_size=12,
)


@given(_VERSIONS, st.randoms())
def test_the_requester_is_the_person_behind_the_newest_version_if_it_asks(
    versions: list[dict[str, Any]], rnd: Any
) -> None:
    shuffled = list(versions)
    rnd.shuffle(shuffled)  # HubSpot lists newest first; the rule does not depend on it
    found = requester_from_history(shuffled)
    newest = max(versions, key=lambda v: v["timestamp"], default=None)
    if newest is None or newest["value"].lower() != "true" or "updatedByUserId" not in newest:
        # ties at the newest instant: any of them may be taken, so only check the clear cases
        ties = [v for v in versions if newest is not None and v["timestamp"] == newest["timestamp"]]
        if len(ties) <= 1:
            assert found is None
        return
    ties = [v for v in versions if v["timestamp"] == newest["timestamp"]]
    if len(ties) == 1:
        when = dt.datetime.fromisoformat(newest["timestamp"].replace("Z", "+00:00"))
        assert found == (f"hubspot-user:{newest['updatedByUserId']}", when)


def test_unreadable_timestamps_are_skipped() -> None:
    assert requester_from_history([{"value": "true", "timestamp": "yesterday", "updatedByUserId": 1}]) is None
    assert requester_from_history([]) is None
