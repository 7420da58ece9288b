"""parse_webhook_batch: HubSpot's real payloads, and errors that name the path, the value and the need."""

from __future__ import annotations

import json

import pytest

from hspc_pipelines.hubspot.webhook_events import (
    ASSOCIATION_CHANGE,
    CREATION,
    PROPERTY_CHANGE,
    WebhookPayloadError,
    parse_webhook_batch,
)
from hspc_pipelines_tests.support.webhooks import PROPERTY_CHANGE_EVENT


def event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {**PROPERTY_CHANGE_EVENT, **overrides}
    return {k: v for k, v in base.items() if v is not ...}


def batch(*events: dict[str, object]) -> bytes:
    return json.dumps(list(events)).encode()


def test_property_change_and_creation_are_parsed_field_by_field() -> None:
    parsed = parse_webhook_batch(
        batch(event(), event(subscriptionType="deal.creation", propertyName="dealname", eventId=7))
    )
    first, second = parsed
    assert first.event_id == "1234567891"
    assert first.subscription_type == PROPERTY_CHANGE
    assert first.object_id == "12345"
    assert (first.property_name, first.property_value) == ("dealstage", "presentationscheduled")
    assert first.occurred_at_ms == 1708282260000
    assert (first.attempt_number, first.portal_id, first.change_source) == (0, "123456", "CRM")
    assert first.known and second.known
    assert second.subscription_type == CREATION and second.event_id == "7"


def test_association_change_uses_from_and_to_ids() -> None:
    raw = event(
        objectId=...,
        propertyName=...,
        propertyValue=...,
        subscriptionType="deal.associationChange",
        associationType="DEAL_TO_CONTACT",
        fromObjectId=111,
        toObjectId=222,
        associationRemoved=True,
    )
    (parsed,) = parse_webhook_batch(batch(raw))
    assert parsed.subscription_type == ASSOCIATION_CHANGE
    assert (parsed.object_id, parsed.from_object_id, parsed.to_object_id) == ("111", "111", "222")
    assert parsed.association_type == "DEAL_TO_CONTACT" and parsed.association_removed is True


def test_deletion_restore_and_merge() -> None:
    deletion, restore, merge = parse_webhook_batch(
        batch(
            event(subscriptionType="deal.deletion", propertyName=..., propertyValue=..., eventId=1),
            event(subscriptionType="deal.restore", propertyName=..., propertyValue=..., eventId=2),
            event(
                subscriptionType="deal.merge",
                propertyName=...,
                propertyValue=...,
                eventId=3,
                primaryObjectId=50,
                mergedObjectIds=[51, 52],
            ),
        )
    )
    assert deletion.object_id == "12345" and deletion.property_name is None
    assert restore.subscription_type == "deal.restore"
    assert merge.object_id == "50" and merge.merged_object_ids == ("51", "52")
    assert merge.deal_ids == ("50", "51", "52")


def test_unknown_subscription_types_are_kept_not_rejected() -> None:
    (parsed,) = parse_webhook_batch(batch({"eventId": 9, "subscriptionType": "contact.creation"}))
    assert parsed.subscription_type == "contact.creation" and not parsed.known
    assert parsed.object_id == ""


def test_property_values_of_other_json_types_become_strings() -> None:
    values = [
        e.property_value
        for e in parse_webhook_batch(
            batch(event(propertyValue=5), event(propertyValue=True), event(propertyValue=None))
        )
    ]
    assert values == ["5", "true", None]


def test_digit_string_ids_are_accepted() -> None:
    (parsed,) = parse_webhook_batch(batch(event(objectId="987", eventId="42")))
    assert (parsed.object_id, parsed.event_id) == ("987", "42")


@pytest.mark.parametrize(
    ("body", "path", "needle"),
    [
        (batch(event(), event(), event(objectId="abc")), "[2].objectId", "'abc'"),
        (batch(event(objectId=...)), "[0].objectId", "missing"),
        (batch(event(eventId=True)), "[0].eventId", "True"),
        (batch(event(occurredAt="yesterday")), "[0].occurredAt", "'yesterday'"),
        (batch(event(occurredAt=-1)), "[0].occurredAt", "-1"),
        (batch(event(subscriptionType=None)), "[0].subscriptionType", "None"),
        (batch(event(propertyName=...)), "[0].propertyName", "missing"),
        (batch(event(propertyValue={"a": 1})), "[0].propertyValue", "{'a': 1}"),
        (batch(event(attemptNumber="x")), "[0].attemptNumber", "'x'"),
        (batch(event(), "nope"), "[1]", "a string"),  # type: ignore[arg-type]
        (json.dumps({"objectId": 1}).encode(), "$", "an object"),
        (b"[]", "$", "[]"),
        (b'[{"objectId": 1,', "$", "valid JSON"),
        (b"\xff\xfe[]", "$", "UTF-8"),
        (b"[" * 100_000, "$", "JSON"),
        (
            batch(event(subscriptionType="deal.merge", mergedObjectIds=[1, "x"])),
            "[0].mergedObjectIds[1]",
            "'x'",
        ),
        (
            batch(event(subscriptionType="deal.associationChange", toObjectId=1)),
            "[0].fromObjectId",
            "missing",
        ),
    ],
)
def test_errors_name_path_value_and_expectation(body: bytes, path: str, needle: str) -> None:
    with pytest.raises(WebhookPayloadError) as info:
        parse_webhook_batch(body)
    message = str(info.value)
    assert message.startswith(f"{path}: expected ")
    assert info.value.path == path
    assert needle in message


def test_long_values_are_truncated_in_messages() -> None:
    with pytest.raises(WebhookPayloadError) as info:
        parse_webhook_batch(batch(event(objectId="x" * 5000)))
    assert len(str(info.value)) < 200 and str(info.value).endswith("...")


def test_integral_numbers_are_integers_as_json_schema_defines_them() -> None:
    """The OpenAPI 3.1 document says "integer", which JSON Schema defines as any number with a zero
    fraction: `5.0` is taken as 5, and a real fraction is still refused."""
    (parsed,) = parse_webhook_batch(batch(event(objectId=5.0, occurredAt=1708282260000.0)))
    assert (parsed.object_id, parsed.occurred_at_ms) == ("5", 1708282260000)
    with pytest.raises(WebhookPayloadError, match=r"\[0\]\.objectId: expected an integer id, got 5\.5"):
        parse_webhook_batch(batch(event(objectId=5.5)))
