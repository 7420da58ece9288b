"""The submit-opportunity request: `{"dealId": "123", "involvementType": …, "visibility": …}`.

One pydantic model, validated twice: by the ingress before queueing (so the caller gets a 400 naming
the field) and by the events sensor after dequeueing (so a hand-crafted message cannot start a run).
The same model gives the request body's schema in the ingress's OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
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
