"""The submit-opportunity request: `{"dealId": "123", "involvementType": …, "visibility": …}`.

One pydantic model, validated twice: by the ingress before queueing (so the caller gets a 400 naming
the field) and by the events sensor after dequeueing (so a hand-crafted message cannot start a run).
The same model gives the request body's schema in the ingress's OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic_core import ErrorDetails

from hspc_pipelines.mapping.vocabulary import (
    DEFAULT_INVOLVEMENT_TYPE,
    DEFAULT_VISIBILITY,
    INVOLVEMENT_TYPES,
    VISIBILITIES,
)


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"not one of {allowed}")
        return value

    return check


# The values are botocore's (the vocabulary reads them from the model); the document lists them as an enum.
InvolvementType = Annotated[
    str,
    AfterValidator(_one_of(INVOLVEMENT_TYPES)),
    WithJsonSchema({"type": "string", "enum": list(INVOLVEMENT_TYPES)}),
]
Visibility = Annotated[
    str, AfterValidator(_one_of(VISIBILITIES)), WithJsonSchema({"type": "string", "enum": list(VISIBILITIES)})
]
FIELDS = ("dealId", "involvementType", "visibility")
_MAX_SHOWN = 60
# What each field allows, in the words of the 400 a caller gets.
ALLOWED = {
    "dealId": "a HubSpot deal id: a string of 1 to 19 digits",
    "involvementType": " | ".join(INVOLVEMENT_TYPES),
    "visibility": " | ".join(VISIBILITIES),
}


class SubmitRequestError(ValueError):
    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.allowed = field, allowed
        shown = repr(value)
        self.shown = shown if len(shown) <= _MAX_SHOWN else shown[: _MAX_SHOWN - 3] + "..."
        super().__init__(f"{field}: got {self.shown}, allowed: {allowed}")


class SubmitRequest(BaseModel):
    """Submit a HubSpot deal to Partner Central (an opportunity, then a review)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Strict: a JSON number is not a deal id; "$" in the pattern matches only at the very end.
    deal_id: str = Field(alias="dealId", strict=True, pattern=r"^[0-9]{1,19}$")
    involvement_type: InvolvementType = Field(default=DEFAULT_INVOLVEMENT_TYPE, alias="involvementType")
    visibility: Visibility = DEFAULT_VISIBILITY

    def to_json(self) -> dict[str, str]:
        return {
            "dealId": self.deal_id,
            "involvementType": self.involvement_type,
            "visibility": self.visibility,
        }


def parse_submit_request(data: Any) -> SubmitRequest:
    if not isinstance(data, dict):
        raise SubmitRequestError("body", type(data).__name__, "a JSON object with dealId")
    try:
        return SubmitRequest.model_validate(data)
    except ValidationError as exc:
        raise submit_error(_first(exc.errors())) from None


def submit_error(error: ErrorDetails) -> SubmitRequestError:
    name = str(error["loc"][0]) if error["loc"] else "body"
    if error["type"] == "extra_forbidden":
        return SubmitRequestError(name, error["input"], f"only the fields {', '.join(FIELDS)}")
    value = None if error["type"] == "missing" else error["input"]
    return SubmitRequestError(name, value, ALLOWED.get(name, "a JSON object with dealId"))


def _first(errors: list[ErrorDetails]) -> ErrorDetails:
    """Unknown fields are reported first (alphabetically), then the fields in their order."""
    extras = sorted((e for e in errors if e["type"] == "extra_forbidden"), key=lambda e: str(e["loc"]))
    return extras[0] if extras else errors[0]


# -- who asked (the sync history's `actor`) -----------------------------------------------------------

SUBMIT_PROPERTY = "aws_submit_requested"


def hubspot_user_actor(source_id: Any = None, user_id: Any = None) -> str | None:
    """`hubspot-user:<id>` from a change's `sourceId` ("userId:123") or `updatedByUserId`; None when
    the change was not made by a person (an integration, a workflow, an import)."""
    if user_id not in (None, ""):
        text = str(user_id)
        return f"hubspot-user:{text}" if text.isdigit() else None
    if isinstance(source_id, str) and source_id.startswith("userId:") and source_id[7:].isdigit():
        return f"hubspot-user:{source_id[7:]}"
    return None


def requester_from_history(versions: Iterable[Mapping[str, Any]]) -> tuple[str, dt.datetime] | None:
    """Who set `aws_submit_requested` to true, and when, from the property's history
    (`propertiesWithHistory`: `{"value", "timestamp", "sourceType", "sourceId", "updatedByUserId"}`
    versions, in any order). Only the newest version counts: None when it is not "true" (nobody is
    asking now), was not set by a person, or no version has a readable time."""
    newest: tuple[dt.datetime, Mapping[str, Any]] | None = None
    for version in versions:
        try:
            when = dt.datetime.fromisoformat(str(version.get("timestamp")).replace("Z", "+00:00"))
        except ValueError:
            continue
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        if newest is None or when > newest[0]:
            newest = (when, version)
    if newest is None or str(newest[1].get("value") or "").lower() != "true":
        return None
    actor = hubspot_user_actor(newest[1].get("sourceId"), newest[1].get("updatedByUserId"))
    return (actor, newest[0].astimezone(dt.UTC)) if actor else None
