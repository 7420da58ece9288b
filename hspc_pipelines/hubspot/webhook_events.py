"""Parse a HubSpot webhook batch (the raw request body) into typed events.

Pure: bytes in, events out. HubSpot posts a JSON array of up to 100 events; each event is validated by
the pydantic model of its subscription type, and the first error names the JSON path of the offending
value (for example `[2].objectId`, from pydantic's error location), shows the value (truncated) and says
what was expected, so a bad delivery can be diagnosed from the log line alone. Subscription types this
module does not know are kept with `known=False` so the caller can log and ignore them instead of
failing the batch. The same models give the ingress's OpenAPI schema (`WEBHOOK_BATCH`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict
from pydantic_core import ErrorDetails, PydanticCustomError

from hspc_pipelines.mapping.properties import DEAL_PROPERTIES

# The vocabulary's enum under another name: `DealEvent` here is the pydantic model of those events
# (its name is the one the OpenAPI schema shows).
from hspc_pipelines.mapping.vocabulary import DealEvent as DealSubscriptionType

# The vocabulary's names, as other modules import them from here.
CREATION, PROPERTY_CHANGE = DealSubscriptionType.CREATION, DealSubscriptionType.PROPERTY_CHANGE
DELETION, RESTORE = DealSubscriptionType.DELETION, DealSubscriptionType.RESTORE
ASSOCIATION_CHANGE, MERGE = DealSubscriptionType.ASSOCIATION_CHANGE, DealSubscriptionType.MERGE
KNOWN_SUBSCRIPTION_TYPES = frozenset(DealSubscriptionType)

# What hspc asks HubSpot to tell it about (the app's webhook subscriptions, deploy/hubspot-app/, and
# the webhooks journal's): every deal event, and a change of any deal property the plan reads except
# the two HubSpot sets itself (hs_lastmodifieddate moves with every write; createdate never does).
# A change hspc made itself comes back as an echo and is dropped (events/echo.py).
SYSTEM_SET_PROPERTIES = frozenset({"hs_lastmodifieddate", "createdate"})
SUBSCRIBED_DEAL_PROPERTIES: tuple[str, ...] = tuple(
    p for p in DEAL_PROPERTIES if p not in SYSTEM_SET_PROPERTIES
)
SUBSCRIBED_DEAL_EVENTS: tuple[str, ...] = tuple(
    e.value for e in DealSubscriptionType if e is not PROPERTY_CHANGE
)
# The same events as the webhooks journal's subscription actions (HubSpot's 2026-03 reference lists
# them; docs/webhooks-journal.md): what `hspc bootstrap --journal` subscribes deals to.
JOURNAL_ACTIONS: dict[str, tuple[str, ...]] = {
    CREATION: ("CREATE",),
    PROPERTY_CHANGE: ("UPDATE",),
    DELETION: ("DELETE",),
    RESTORE: ("RESTORE",),
    MERGE: ("MERGE",),
    ASSOCIATION_CHANGE: ("ASSOCIATION_ADDED", "ASSOCIATION_REMOVED"),
}
SUBSCRIBED_JOURNAL_ACTIONS: tuple[str, ...] = tuple(
    action for event in (*SUBSCRIBED_DEAL_EVENTS, PROPERTY_CHANGE) for action in JOURNAL_ACTIONS[event]
)

MAX_SHOWN_VALUE = 60
MAX_ID = 10**24
MAX_COUNT = 2**63


class WebhookPayloadError(ValueError):
    """The batch is not what HubSpot sends. `path` is a JSON path such as `[2].objectId`."""

    def __init__(self, path: str, value: Any, expected: str) -> None:
        self.path, self.expected = path, expected
        self.shown = shown_value(value)
        super().__init__(f"{path}: expected {expected}, got {self.shown}")


_MISSING = object()


def shown_value(value: Any) -> str:
    """A short, log-safe rendering of a payload value."""
    if value is _MISSING:
        return "nothing (field missing)"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 3] + "..."


@dataclass(frozen=True)
class HubSpotWebhookEvent:
    event_id: str
    subscription_type: str
    object_id: str  # the deal; for association changes, the `from` object
    occurred_at_ms: int
    attempt_number: int = 0
    portal_id: str | None = None
    property_name: str | None = None
    property_value: str | None = None
    change_source: str | None = None
    source_id: str | None = None  # who made the change: "userId:123" for a person in HubSpot's UI
    from_object_id: str | None = None  # association changes only
    to_object_id: str | None = None
    association_type: str | None = None
    association_removed: bool | None = None
    merged_object_ids: tuple[str, ...] = ()  # merges: the ids that disappeared into object_id

    @property
    def known(self) -> bool:
        return self.subscription_type in KNOWN_SUBSCRIPTION_TYPES

    @property
    def deal_ids(self) -> tuple[str, ...]:
        """Every deal id this event touches (a merge touches the survivor and the merged ones)."""
        ids = [self.object_id] if self.object_id else []
        return tuple(ids + [i for i in self.merged_object_ids if i not in ids])


# --- field types: HubSpot's rules, with the wording of the error a bad value gets ----------------------


def _json_integer(value: Any) -> int | None:
    """A JSON integer as JSON Schema (and so the OpenAPI 3.1 document) defines it: `5` or `5.0`.

    HubSpot sends integer literals; a number with a zero fraction is the same integer to the schema, so
    it is taken too rather than refusing what the document allows.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _hubspot_id(value: Any) -> str:
    """HubSpot ids are JSON integers; digit strings are accepted too (some proxies re-encode)."""
    number = _json_integer(value)
    if number is not None and 0 <= number < MAX_ID:
        return str(number)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 24:
        return value
    raise PydanticCustomError("hubspot_id", "an integer id")


def _count(value: Any) -> int:
    number = _json_integer(value)
    if number is not None and 0 <= number < MAX_COUNT:
        return number
    raise PydanticCustomError("count", "an integer" if value is None else "a non-negative integer")


def _required_text(value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    raise PydanticCustomError("text", "a string" if value is None else "a non-empty string")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise PydanticCustomError("text", "a string")


def _property_value(value: Any) -> str:
    """Values arrive as strings; numbers and booleans are normalised to the CRM API's string form."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise PydanticCustomError("property_value", "a string, number, boolean or null")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise PydanticCustomError("flag", "true or false")


ID_SCHEMA: JsonDict = {
    "description": "a HubSpot id: a JSON integer, or a string of digits",
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_ID - 1},
        {"type": "string", "pattern": "^[0-9]{1,24}$"},
    ],
}
COUNT_SCHEMA: JsonDict = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT - 1}
HubSpotId = Annotated[str, PlainValidator(_hubspot_id), WithJsonSchema(ID_SCHEMA)]
Count = Annotated[int, PlainValidator(_count), WithJsonSchema(COUNT_SCHEMA)]
RequiredText = Annotated[
    str, PlainValidator(_required_text), WithJsonSchema({"type": "string", "minLength": 1})
]
Text = Annotated[str, PlainValidator(_text), WithJsonSchema({"type": "string"})]
Flag = Annotated[bool, PlainValidator(_flag), WithJsonSchema({"type": "boolean"})]
PropertyValue = Annotated[
    str,
    PlainValidator(_property_value),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
            "description": "numbers and booleans are read as the CRM API's strings",
        }
    ),
]

# What a missing (or null) required field should have been, by JSON name.
_MISSING_EXPECTED = {
    "eventId": "an integer id",
    "objectId": "an integer id",
    "fromObjectId": "an integer id",
    "toObjectId": "an integer id",
    "occurredAt": "an integer",
    "subscriptionType": "a string",
    "propertyName": "a string",
}


# --- the events, one model per shape ---------------------------------------------------------------


class _Event(BaseModel):
    """The fields every event carries. JSON names are camelCase; fields not listed are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)

    subscription_type: str  # each model narrows it; the discriminator picks the model from it
    event_id: HubSpotId
    portal_id: HubSpotId | None = None
    attempt_number: Count | None = None
    occurred_at: Count = Field(description="epoch milliseconds")
    change_source: Text | None = None
    source_id: Text | None = None

    def _common(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "subscription_type": self.subscription_type,
            "occurred_at_ms": self.occurred_at or 0,
            "attempt_number": self.attempt_number or 0,
            "portal_id": self.portal_id,
            "change_source": self.change_source,
            "source_id": self.source_id,
        }


class _DealObjectEvent(_Event):
    object_id: HubSpotId
    property_name: Text | None = None
    property_value: PropertyValue | None = None

    def to_event(self) -> HubSpotWebhookEvent:
        return HubSpotWebhookEvent(
            object_id=self.object_id,
            property_name=self.property_name,
            property_value=self.property_value,
            **self._common(),
        )


class DealEvent(_DealObjectEvent):
    """A deal was created, deleted or restored."""

    subscription_type: Literal["deal.creation", "deal.deletion", "deal.restore"]


class DealPropertyChange(_DealObjectEvent):
    """A deal property changed."""

    subscription_type: Literal["deal.propertyChange"]
    property_name: RequiredText


class DealMerge(_DealObjectEvent):
    """Deals were merged into primaryObjectId (or objectId)."""

    subscription_type: Literal["deal.merge"]
    primary_object_id: HubSpotId | None = None
    merged_object_ids: list[HubSpotId] | None = None

    def to_event(self) -> HubSpotWebhookEvent:
        return HubSpotWebhookEvent(
            object_id=self.primary_object_id or self.object_id,
            property_name=self.property_name,
            property_value=self.property_value,
            merged_object_ids=tuple(self.merged_object_ids or ()),
            **self._common(),
        )


class DealAssociationChange(_Event):
    """An association of a deal was added or removed."""

    subscription_type: Literal["deal.associationChange"]
    from_object_id: HubSpotId
    to_object_id: HubSpotId
    association_type: Text | None = None
    association_removed: Flag | None = None

    def to_event(self) -> HubSpotWebhookEvent:
        return HubSpotWebhookEvent(
            object_id=self.from_object_id,
            from_object_id=self.from_object_id,
            to_object_id=self.to_object_id,
            association_type=self.association_type,
            association_removed=self.association_removed,
            **self._common(),
        )


_ANY_ID_OR_NULL: JsonDict = {"anyOf": [ID_SCHEMA, {"type": "null"}]}


class OtherEvent(_Event):
    """A subscription type hspc does not use: queued with the batch, then ignored."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "the object is objectId, or fromObjectId when objectId is absent or null",
            "anyOf": [
                {"type": "object", "required": ["objectId"], "properties": {"objectId": ID_SCHEMA}},
                {
                    "type": "object",
                    "properties": {"objectId": {"type": "null"}, "fromObjectId": _ANY_ID_OR_NULL},
                },
            ],
        }
    )

    subscription_type: Annotated[
        str,
        PlainValidator(_required_text),
        WithJsonSchema({"type": "string", "minLength": 1, "not": {"enum": sorted(KNOWN_SUBSCRIPTION_TYPES)}}),
    ]
    occurred_at: Count | None = Field(default=None, description="epoch milliseconds")  # type: ignore[assignment]
    object_id: HubSpotId | None = None
    # Read only when objectId is absent or null (the model's anyOf says so in the schema).
    from_object_id: Annotated[str | None, WithJsonSchema({})] = None
    property_name: Text | None = None
    property_value: PropertyValue | None = None

    @field_validator("from_object_id", mode="wrap")
    @classmethod
    def _from_only_without_object_id(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> str | None:
        if info.data.get("object_id") is not None:
            return None
        return None if value is None else _hubspot_id(value)

    def to_event(self) -> HubSpotWebhookEvent:
        return HubSpotWebhookEvent(
            object_id=self.object_id or self.from_object_id or "",
            property_name=self.property_name,
            property_value=self.property_value,
            **self._common(),
        )


# Keyed by the subscription types' strings (the enum is a StrEnum), so the payload's string looks up.
_TAGS: dict[str, str] = {
    CREATION: "deal",
    DELETION: "deal",
    RESTORE: "deal",
    PROPERTY_CHANGE: "property_change",
    MERGE: "merge",
    ASSOCIATION_CHANGE: "association",
}


def _tag(item: Any) -> str:
    sub_type = item.get("subscriptionType") if isinstance(item, dict) else None
    return _TAGS.get(sub_type, "other") if isinstance(sub_type, str) else "other"


WebhookEvent = Annotated[
    Annotated[DealEvent, Tag("deal")]
    | Annotated[DealPropertyChange, Tag("property_change")]
    | Annotated[DealMerge, Tag("merge")]
    | Annotated[DealAssociationChange, Tag("association")]
    | Annotated[OtherEvent, Tag("other")],
    Discriminator(_tag),
]
WEBHOOK_BATCH: TypeAdapter[list[Any]] = TypeAdapter(Annotated[list[WebhookEvent], Field(min_length=1)])


# --- parsing ---------------------------------------------------------------------------------------


def parse_webhook_batch(raw: bytes | str) -> list[HubSpotWebhookEvent]:
    """Parse the body HubSpot posted. Raises WebhookPayloadError naming the first problem found."""
    data = _load_json(raw)
    try:
        models = WEBHOOK_BATCH.validate_python(data)
    except ValidationError as exc:
        raise _payload_error(exc.errors()[0], data) from None
    return [m.to_event() for m in models]


def _payload_error(error: ErrorDetails, data: Any) -> WebhookPayloadError:
    loc = error["loc"]
    if not loc:  # the batch itself
        if error["type"] == "too_short":
            return WebhookPayloadError("$", "[]", "at least one event")
        return WebhookPayloadError("$", _kind(data), "a JSON array of events")
    index, fields = loc[0], loc[2:]  # loc[1] is the union tag, not part of the JSON path
    path = f"[{index}]" + "".join(f".{f}" if isinstance(f, str) else f"[{f}]" for f in fields)
    if not fields:
        return WebhookPayloadError(path, _kind(error["input"]), "an event object")
    if error["type"] == "list_type":
        return WebhookPayloadError(path, error["input"], "an array of integer ids")
    if error["type"] == "missing":
        return WebhookPayloadError(path, _MISSING, _MISSING_EXPECTED.get(str(fields[-1]), "a value"))
    return WebhookPayloadError(path, error["input"], error["msg"])


def _load_json(raw: bytes | str) -> Any:
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebhookPayloadError("$", f"byte {exc.start}", "UTF-8 encoded JSON") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise WebhookPayloadError(
            "$", raw[max(0, exc.pos - 20) : exc.pos + 20], f"valid JSON ({exc.msg} at char {exc.pos})"
        ) from None
    except (ValueError, RecursionError):  # integers beyond Python's digit limit, absurd nesting
        raise WebhookPayloadError("$", raw[:40], "valid JSON of reasonable size and depth") from None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )
