"""parse_event: AWS's EventBridge shape, the seed's flat shape, unknown types and malformed events."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from hspc_pipelines.partner_central.events import (
    ENGAGEMENT,
    INVITATION,
    OPPORTUNITY,
    UNKNOWN,
    EventPayloadError,
    parse_event,
)


def aws_event(detail_type: str, detail: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "01234567-0123-0123-0123-0123456789ab",
        "detail-type": detail_type,
        "source": "aws.partnercentral-selling",
        "account": "123456789012",
        "time": "2025-02-18T18:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
        **extra,
    }


OPP_DETAIL = {
    "schemaVersion": "1",
    "catalog": "AWS",
    "opportunity": {"identifier": "O1234567890", "url": "https://partnercentral.awspartner.com/x"},
}


def test_aws_opportunity_event() -> None:
    event = parse_event(json.dumps(aws_event("Opportunity Updated", OPP_DETAIL)).encode())
    assert event.event_id == "01234567-0123-0123-0123-0123456789ab"
    assert (event.detail_type, event.kind, event.catalog) == ("Opportunity Updated", OPPORTUNITY, "AWS")
    assert event.opportunity_id == "O1234567890"
    assert event.invitation_id is None
    assert event.time == dt.datetime(2025, 2, 18, 18, 30, tzinfo=dt.UTC)


def test_aws_invitation_event_with_id_arn_and_engagement() -> None:
    arn = "arn:aws:partnercentral:us-east-1::catalog/AWS/engagement-invitation/engi-v7p8z56whnauo"
    detail = {
        "catalog": "Sandbox",
        "engagementInvitation": {
            "arn": arn,
            "id": "engi-v7p8z56whnauo",
            "engagementId": "eng-12345678901234",
        },
    }
    event = parse_event(aws_event("Engagement Invitation Created", detail, resources=[arn]))
    assert (event.kind, event.catalog) == (INVITATION, "Sandbox")
    assert event.invitation_id == "engi-v7p8z56whnauo"
    assert event.engagement_id == "eng-12345678901234"
    only_arn = parse_event(aws_event("Engagement Invitation Expired", {"engagementInvitation": {"arn": arn}}))
    assert only_arn.invitation_id == "engi-v7p8z56whnauo"
    from_resources = parse_event(
        aws_event("Engagement Invitation Accepted", {"catalog": "AWS"}, resources=[arn])
    )
    assert from_resources.invitation_id == "engi-v7p8z56whnauo"


def test_engagement_event() -> None:
    event = parse_event(
        aws_event("Engagement Member Joined", {"engagement": {"identifier": "eng-abcdefghijklmn"}})
    )
    assert (event.kind, event.engagement_id, event.opportunity_id) == (ENGAGEMENT, "eng-abcdefghijklmn", None)


def test_seed_flat_shape() -> None:
    opp = parse_event(
        {
            "version": "0",
            "id": "event-uuid",
            "detail-type": "Opportunity Created",
            "source": "aws.partnercentral-selling",
            "detail": {"opportunityId": "O0987654321", "createdBy": "aws", "engagementId": "eng-xyz123"},
        }
    )
    assert (opp.opportunity_id, opp.engagement_id, opp.time) == ("O0987654321", "eng-xyz123", None)
    inv = parse_event(
        aws_event("Engagement Invitation Created", {"invitationId": "inv-abc123", "status": "PENDING"})
    )
    assert inv.invitation_id == "inv-abc123"


def test_unknown_detail_type_is_kept() -> None:
    event = parse_event(aws_event("Engagement Updated", {"catalog": "AWS"}))
    assert event.kind == UNKNOWN and event.detail_type == "Engagement Updated"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.pop("id"), "id"),
        (lambda e: e.update({"id": ""}), "id"),
        (lambda e: e.update({"detail-type": 5}), "detail-type"),
        (lambda e: e.update({"source": "aws.s3"}), "source"),
        (lambda e: e.update({"detail": []}), "detail"),
        (lambda e: e.update({"detail": {"catalog": "AWS"}}), "detail.opportunity.identifier"),
        (
            lambda e: e["detail"].update({"opportunity": {"identifier": "O 1; drop"}}),
            "detail.opportunity.identifier",
        ),
        (lambda e: e["detail"].update({"catalog": 7}), "detail.catalog"),
        (lambda e: e.update({"time": "last tuesday"}), "time"),
    ],
)
def test_malformed_events_name_the_field(mutate: Any, field: str) -> None:
    raw = aws_event("Opportunity Updated", json.loads(json.dumps(OPP_DETAIL)))
    mutate(raw)
    with pytest.raises(EventPayloadError) as info:
        parse_event(raw)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: expected ")


def test_invitation_without_any_id_is_malformed() -> None:
    with pytest.raises(EventPayloadError, match=r"detail\.engagementInvitation\.id"):
        parse_event(aws_event("Engagement Invitation Created", {"catalog": "AWS"}))


def test_not_json() -> None:
    with pytest.raises(EventPayloadError, match=r"^\$: expected a JSON object"):
        parse_event(b"{oops")
