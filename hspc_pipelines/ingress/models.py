"""The ingress's answers and query parameters as pydantic models: FastAPI validates the parameters with
them and writes the OpenAPI document from them (request bodies: `submit.SubmitRequest` and
`hubspot.webhook_events.WEBHOOK_BATCH`, validated by the handlers after the signature or token check)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from hspc_pipelines.cosell.submission.request import InvolvementType, Visibility
from hspc_pipelines.mapping.vocabulary import SubmitRequestStatus
from hspc_pipelines.solutions.lookup import STATUSES, BadPageToken, SolutionStatus, decode_token

MAX_LIMIT = 100
MAX_QUERY_CHARS = 200
PAGE_TOKEN_FORMAT = "hspc-page-token"  # opaque: only tokens this API returned are valid
# Blank means whitespace to Python or to JavaScript regexes (the OpenAPI pattern's dialect), so the
# document's pattern and this check refuse exactly the same queries.
BLANK = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\ufeff"
SEARCH_PATTERN = r"[^\s\x1c-\x1f\x85]"

# What each query parameter allows, in the words of the 400 a caller gets.
ALLOWED = {
    "status": " | ".join(STATUSES),
    "limit": f"an integer from 1 to {MAX_LIMIT}",
    "nextToken": "a nextToken this API returned",
    "category": f"1 to {MAX_QUERY_CHARS} characters",
    "q": f"search words, 1 to {MAX_QUERY_CHARS} characters",
    "requestId": "the requestId POST /submit-opportunity answered (a UUID)",
    "dealId": "a HubSpot deal id: a string of 1 to 19 digits",
}


class Error(BaseModel):
    """Every refusal: one message naming the problem (field, value, what is allowed)."""

    error: str


class Health(BaseModel):
    status: Literal["ok"]


class WebhookAccepted(BaseModel):
    status: Literal["queued"]
    events: int
    ignored: int = Field(description="events of subscription types hspc does not use")
    signature: Literal["v1", "v2", "v3"]


class SubmitQueued(BaseModel):
    status: Literal["queued"]
    deal_id: str = Field(alias="dealId")
    involvement_type: InvolvementType = Field(alias="involvementType")
    visibility: Visibility


RequestId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
DealId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}$")]


class SubmitAccepted(SubmitQueued):
    request_id: RequestId = Field(alias="requestId", description="GET /submit-opportunity/{requestId}")


class Problem(BaseModel):
    field: str
    problem: str


class SubmitRequestAnswer(BaseModel):
    """Where a submit request is: queued, running, or how it ended."""

    request_id: str = Field(alias="requestId")
    status: SubmitRequestStatus
    deal_id: str = Field(alias="dealId")
    involvement_type: str | None = Field(alias="involvementType")
    visibility: str | None
    opportunity_id: str | None = Field(alias="opportunityId")
    review_status: str | None = Field(alias="reviewStatus")
    message: str | None
    problems: list[Problem] = Field(description="validation_failed: every problem, field by field")
    run_id: str | None = Field(alias="runId")
    created_at: dt.datetime = Field(alias="createdAt")
    updated_at: dt.datetime = Field(alias="updatedAt")


class DealSyncStatus(BaseModel):
    """The deal's latest outcome in the sync history."""

    deal_id: str = Field(alias="dealId")
    status: str = Field(description="how the latest row ended (created, updated, unchanged, invalid, ...)")
    operation: str
    opportunity_id: str | None = Field(alias="opportunityId")
    review_status: str | None = Field(alias="reviewStatus")
    reason_code: str | None = Field(alias="reasonCode")
    reason: str | None
    run_id: str = Field(alias="runId")
    job_name: str = Field(alias="jobName")
    time: dt.datetime


class Solution(BaseModel):
    id: str
    name: str | None
    category: str | None
    status: str | None


class SearchHit(Solution):
    relevance_score: int = Field(alias="relevanceScore", ge=1, le=100)


class SolutionDetail(Solution):
    arn: str | None = None
    created_date: str | None = Field(default=None, alias="createdDate")


class SolutionList(BaseModel):
    solutions: list[Solution]
    count: int
    next_token: str | None = Field(alias="nextToken")


class SolutionSearch(BaseModel):
    solutions: list[SearchHit]
    count: int
    query: str
    next_token: str | None = Field(alias="nextToken")


# --- query parameters ------------------------------------------------------------------------------


def _digits(value: Any) -> Any:
    # Digits only: int() would also take "+5", " 5" or "5_0", which the document does not allow.
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("limit", "not a number")
    return value


def _page_offset(value: Any) -> int:
    try:
        return decode_token(value if isinstance(value, str) else None)
    except BadPageToken:
        raise PydanticCustomError("page_token", "not a token this API returned") from None


def _not_blank(value: str) -> str:
    if not value.strip(BLANK):
        raise PydanticCustomError("blank", "blank")
    return value


Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT), BeforeValidator(_digits)]
# The page token is opaque: documented as a string of its own format, read as the offset it encodes.
PageOffset = Annotated[
    int,
    BeforeValidator(_page_offset),
    WithJsonSchema({"type": "string", "format": PAGE_TOKEN_FORMAT}),
]
Category = Annotated[
    Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS)] | None,
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}),
]


class ListQuery(BaseModel):
    """Filters and paging; a parameter not listed is refused (a typo must not silently widen a query)."""

    model_config = ConfigDict(extra="forbid")

    status: SolutionStatus = "Active"
    limit: Limit = MAX_LIMIT
    offset: PageOffset = Field(
        default_factory=int,  # no token: the first page (a factory, so the document shows no default)
        alias="nextToken",
        description="the nextToken of the previous page, as returned; any other value is a 400",
    )
    category: Category = None


class SearchQuery(ListQuery):
    limit: Limit = 50
    q: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS), AfterValidator(_not_blank)] = Field(
        description="search words; blank is refused", json_schema_extra={"pattern": SEARCH_PATTERN}
    )
