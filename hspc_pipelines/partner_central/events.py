"""Parse Partner Central EventBridge events into `PartnerCentralEvent`.

Accepts AWS's shape (`detail.opportunity.identifier`, `detail.engagementInvitation.id` or `.arn`,
`detail.engagement.identifier`) and the older seed document's flat shape (`detail.opportunityId`,
`detail.invitationId`, `detail.engagementId`). Events only say *what* changed: handlers re-read the
record, so nothing else from `detail` is kept. Unknown detail types parse with kind "unknown" so the
caller can log and drop them; a malformed event raises EventPayloadError naming the field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.mapping.vocabulary import DetailType

SOURCE = "aws.partnercentral-selling"

OPPORTUNITY, INVITATION, ENGAGEMENT, SNAPSHOT, UNKNOWN = (
    "opportunity",
    "invitation",
    "engagement",
    "resource_snapshot",
    "unknown",
)
KINDS: dict[str, str] = {
    DetailType.OPPORTUNITY_CREATED: OPPORTUNITY,
    DetailType.OPPORTUNITY_UPDATED: OPPORTUNITY,
    DetailType.OPPORTUNITY_ACCEPTED: OPPORTUNITY,
    DetailType.OPPORTUNITY_REJECTED: OPPORTUNITY,
    DetailType.INVITATION_CREATED: INVITATION,
    DetailType.INVITATION_ACCEPTED: INVITATION,
    DetailType.INVITATION_REJECTED: INVITATION,
    DetailType.INVITATION_EXPIRED: INVITATION,
    DetailType.MEMBER_JOINED: ENGAGEMENT,
    DetailType.MEMBER_ADDED: ENGAGEMENT,
    DetailType.SNAPSHOT_CREATED: SNAPSHOT,
    DetailType.ENGAGEMENT_SNAPSHOT_CREATED: SNAPSHOT,
}

# Ids are short tokens (O123…, engi-…, eng-…); ARNs are reduced to their last path segment.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_MAX_SHOWN = 60


class EventPayloadError(ValueError):
    """An EventBridge event we cannot use; `field` is a dotted path such as `detail.opportunity.identifier`."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field, self.expected = field, expected
        shown = repr(value)
        shown = shown if len(shown) <= _MAX_SHOWN else shown[: _MAX_SHOWN - 3] + "..."
        super().__init__(f"{field}: expected {expected}, got {shown}")


@dataclass(frozen=True)
class PartnerCentralEvent:
    event_id: str
    detail_type: str
    kind: str
    catalog: str | None = None
    opportunity_id: str | None = None
    invitation_id: str | None = None
    engagement_id: str | None = None
    time: dt.datetime | None = None


def looks_like_partner_central_event(data: Any) -> bool:
    """True for anything EventBridge would deliver from Partner Central (well formed or not)."""
    return isinstance(data, Mapping) and data.get("source") == SOURCE and "detail-type" in data


def parse_event(raw: bytes | str | Mapping[str, Any]) -> PartnerCentralEvent:
    data = _load(raw)
    if not isinstance(data, Mapping):
        raise EventPayloadError("$", type(data).__name__, "an EventBridge event object")
    if data.get("source") != SOURCE:
        raise EventPayloadError("source", data.get("source"), repr(SOURCE))
    event_id = _text(data, "id", "id")
    detail_type = _text(data, "detail-type", "detail-type")
    detail = data.get("detail")
    if not isinstance(detail, Mapping):
        raise EventPayloadError("detail", detail, "an object")
    kind = KINDS.get(detail_type, UNKNOWN)
    catalog = detail.get("catalog")
    if catalog is not None and not (isinstance(catalog, str) and catalog.isalpha()):
        raise EventPayloadError("detail.catalog", catalog, "a catalog name such as 'AWS' or 'Sandbox'")
    opportunity_id = _first_id(
        detail, [("opportunity", "identifier"), ("opportunity", "id"), ("opportunityId",)]
    )
    invitation_id = _first_id(
        detail,
        [
            ("engagementInvitation", "id"),
            ("engagementInvitation", "identifier"),
            ("engagementInvitation", "arn"),
            ("invitation", "identifier"),
            ("invitation", "id"),
            ("invitationId",),
        ],
    )
    engagement_id = _first_id(
        detail,
        [
            ("engagement", "identifier"),
            ("engagement", "id"),
            ("engagementInvitation", "engagementId"),
            ("engagementId",),
        ],
    )
    if kind == OPPORTUNITY and opportunity_id is None:
        raise EventPayloadError("detail.opportunity.identifier", None, "an opportunity id (O…)")
    if kind == INVITATION and invitation_id is None:
        invitation_id = _id_from_resources(data.get("resources"), "engi-")
        if invitation_id is None:
            raise EventPayloadError("detail.engagementInvitation.id", None, "an invitation id (engi-…)")
    return PartnerCentralEvent(
        event_id=event_id,
        detail_type=detail_type,
        kind=kind,
        catalog=catalog,
        opportunity_id=opportunity_id,
        invitation_id=invitation_id,
        engagement_id=engagement_id,
        time=_time(data.get("time")),
    )


def _load(raw: bytes | str | Mapping[str, Any]) -> Any:
    if isinstance(raw, Mapping):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise EventPayloadError("$", str(raw[:40]), "a JSON object") from None


def _text(data: Mapping[str, Any], key: str, field: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise EventPayloadError(field, value, "a non-empty string")
    return value


def _first_id(detail: Mapping[str, Any], paths: list[tuple[str, ...]]) -> str | None:
    for path in paths:
        node: Any = detail
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping) or node.get(path[-1]) is None:
            continue
        return _clean_id(node[path[-1]], "detail." + ".".join(path))
    return None


def _clean_id(value: Any, field: str) -> str:
    if isinstance(value, str):
        candidate = value.rsplit("/", 1)[-1] if value.startswith("arn:") else value
        if _ID.match(candidate):
            return candidate
    raise EventPayloadError(field, value, "an identifier or an ARN ending in one")


def _id_from_resources(resources: Any, prefix: str) -> str | None:
    if not isinstance(resources, list):
        return None
    for arn in resources:
        if isinstance(arn, str) and arn.rsplit("/", 1)[-1].startswith(prefix):
            return _clean_id(arn, "resources")
    return None


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise EventPayloadError("time", value, "an ISO 8601 timestamp such as 2025-02-18T18:30:00Z")
