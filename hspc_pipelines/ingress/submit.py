"""The submit-opportunity request: `{"dealId": "123", "involvementType": …, "visibility": …}`.

Validated twice with the same function: by the ingress before queueing (so the caller gets a 400 naming
the field) and by the events sensor after dequeueing (so a hand-crafted message cannot start a run).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INVOLVEMENT_TYPES = ("Co-Sell", "For Visibility Only")
VISIBILITIES = ("Full", "Limited")
FIELDS = ("dealId", "involvementType", "visibility")
_DEAL_ID = re.compile(r"[0-9]{1,19}")  # whole string: "$" would let a trailing newline through
_MAX_SHOWN = 60


class SubmitRequestError(ValueError):
    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.allowed = field, allowed
        shown = repr(value)
        self.shown = shown if len(shown) <= _MAX_SHOWN else shown[: _MAX_SHOWN - 3] + "..."
        super().__init__(f"{field}: got {self.shown}, allowed: {allowed}")


@dataclass(frozen=True)
class SubmitRequest:
    deal_id: str
    involvement_type: str = "Co-Sell"
    visibility: str = "Full"

    def to_json(self) -> dict[str, str]:
        return {
            "dealId": self.deal_id,
            "involvementType": self.involvement_type,
            "visibility": self.visibility,
        }


def parse_submit_request(data: Any) -> SubmitRequest:
    if not isinstance(data, Mapping):
        raise SubmitRequestError("body", type(data).__name__, "a JSON object with dealId")
    unknown = sorted(str(k) for k in data if k not in FIELDS)
    if unknown:
        raise SubmitRequestError(unknown[0], data[unknown[0]], f"only the fields {', '.join(FIELDS)}")
    deal_id = data.get("dealId")
    if not isinstance(deal_id, str) or not _DEAL_ID.fullmatch(deal_id):
        raise SubmitRequestError("dealId", deal_id, "a HubSpot deal id: a string of 1 to 19 digits")
    involvement = data.get("involvementType", "Co-Sell")
    if involvement not in INVOLVEMENT_TYPES:
        raise SubmitRequestError("involvementType", involvement, " | ".join(INVOLVEMENT_TYPES))
    visibility = data.get("visibility", "Full")
    if visibility not in VISIBILITIES:
        raise SubmitRequestError("visibility", visibility, " | ".join(VISIBILITIES))
    return SubmitRequest(deal_id, involvement, visibility)
