"""Parse a HubSpot webhook batch (the raw request body) into typed events.

Pure: bytes in, events out. HubSpot posts a JSON array of up to 100 events; every error names the JSON
path of the offending value (for example `[2].objectId`), shows the value (truncated) and says what was
expected, so a bad delivery can be diagnosed from the log line alone. Subscription types this module does
not know are kept with `known=False` so the caller can log and ignore them instead of failing the batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.mapping.vocabulary import DealEvent

# The vocabulary's names, as other modules import them from here.
CREATION, PROPERTY_CHANGE, DELETION = DealEvent.CREATION, DealEvent.PROPERTY_CHANGE, DealEvent.DELETION
ASSOCIATION_CHANGE, RESTORE, MERGE = DealEvent.ASSOCIATION_CHANGE, DealEvent.RESTORE, DealEvent.MERGE
KNOWN_SUBSCRIPTION_TYPES = frozenset(DealEvent)

MAX_SHOWN_VALUE = 60


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


def parse_webhook_batch(raw: bytes | str) -> list[HubSpotWebhookEvent]:
    """Parse the body HubSpot posted. Raises WebhookPayloadError naming the first problem found."""
    data = _load_json(raw)
    if not isinstance(data, list):
        raise WebhookPayloadError("$", _kind(data), "a JSON array of events")
    if not data:
        raise WebhookPayloadError("$", "[]", "at least one event")
    return [parse_webhook_event(item, f"[{i}]") for i, item in enumerate(data)]


def parse_webhook_event(item: Any, path: str = "$") -> HubSpotWebhookEvent:
    if not isinstance(item, Mapping):
        raise WebhookPayloadError(path, _kind(item), "an event object")
    sub_type = _string(item, "subscriptionType", path)
    event_id = _id(item, "eventId", path)
    known = sub_type in KNOWN_SUBSCRIPTION_TYPES
    portal = _id(item, "portalId", path, required=False)
    attempt = _int(item, "attemptNumber", path, required=False)
    occurred = _int(item, "occurredAt", path, required=known)
    common: dict[str, Any] = {
        "event_id": event_id,
        "subscription_type": sub_type,
        "occurred_at_ms": occurred or 0,
        "attempt_number": attempt or 0,
        "portal_id": portal,
        "change_source": _string(item, "changeSource", path, required=False),
    }
    if sub_type == ASSOCIATION_CHANGE:
        from_id = _id(item, "fromObjectId", path)
        removed = item.get("associationRemoved")
        if removed is not None and not isinstance(removed, bool):
            raise WebhookPayloadError(f"{path}.associationRemoved", removed, "true or false")
        return HubSpotWebhookEvent(
            object_id=from_id,
            from_object_id=from_id,
            to_object_id=_id(item, "toObjectId", path),
            association_type=_string(item, "associationType", path, required=False),
            association_removed=removed,
            **common,
        )
    object_id = _id(item, "objectId", path, required=known) or _id(item, "fromObjectId", path, required=False)
    merged: tuple[str, ...] = ()
    if sub_type == MERGE:
        merged = _id_list(item, "mergedObjectIds", path)
        object_id = _id(item, "primaryObjectId", path, required=False) or object_id
    prop_name = _string(item, "propertyName", path, required=sub_type == PROPERTY_CHANGE)
    return HubSpotWebhookEvent(
        object_id=object_id or "",
        property_name=prop_name,
        property_value=_property_value(item, path),
        merged_object_ids=merged,
        **common,
    )


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


def _id(item: Mapping[str, Any], key: str, path: str, required: bool = True) -> str | None:
    """HubSpot ids are JSON integers; digit strings are accepted too (some proxies re-encode)."""
    value = item.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise WebhookPayloadError(f"{path}.{key}", value, "an integer id")
        return None
    return _checked_id(value, f"{path}.{key}")


def _int(item: Mapping[str, Any], key: str, path: str, required: bool = True) -> int | None:
    value = item.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise WebhookPayloadError(f"{path}.{key}", value, "an integer")
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    raise WebhookPayloadError(f"{path}.{key}", value, "a non-negative integer")


def _string(item: Mapping[str, Any], key: str, path: str, required: bool = True) -> Any:
    value = item.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise WebhookPayloadError(f"{path}.{key}", value, "a string")
        return None
    if isinstance(value, str) and (value or not required):
        return value
    raise WebhookPayloadError(f"{path}.{key}", value, "a non-empty string" if required else "a string")


def _property_value(item: Mapping[str, Any], path: str) -> str | None:
    """Values arrive as strings; numbers and booleans are normalised to the CRM API's string form."""
    value = item.get("propertyValue")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise WebhookPayloadError(f"{path}.propertyValue", value, "a string, number, boolean or null")


def _id_list(item: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = item.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise WebhookPayloadError(f"{path}.{key}", value, "an array of integer ids")
    return tuple(_checked_id(v, f"{path}.{key}[{i}]") for i, v in enumerate(value))


def _checked_id(value: Any, path: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**24:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 24:
        return value
    raise WebhookPayloadError(path, value, "an integer id")
