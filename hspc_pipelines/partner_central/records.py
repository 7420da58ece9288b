"""JSON-safe opportunity records: datetimes as ISO strings, so frames, the state store and the plan
can hold them, and botocore gets datetimes back when a request is sent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

_TIMESTAMP_KEYS = frozenset({"LastModifiedDate", "CreatedDate"})


def to_jsonable(value: Any) -> Any:
    """Deep copy with datetimes turned into ISO-8601 strings (UTC when aware)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def parse_timestamp(value: Any) -> dt.datetime:
    """An ISO string or datetime as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def with_timestamps(request: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level timestamp members back to datetimes, as botocore expects them."""
    out = dict(request)
    for key in _TIMESTAMP_KEYS & out.keys():
        out[key] = parse_timestamp(out[key])
    return out


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True, ensure_ascii=False)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def dumps_fast(value: Any) -> str:
    """`dumps(value)`, skipping the deep copy for what needs none (empty containers, flat property
    dicts and lists of strings: the bulk of a plan frame)."""
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}"
        if "ResponseMetadata" not in value and all(
            type(k) is str and (v is None or type(v) is str) for k, v in value.items()
        ):
            return json.dumps(value, sort_keys=True, ensure_ascii=False)
    elif kind is list:
        if not value:
            return "[]"
        if all(type(v) is str for v in value):
            return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return dumps(value)


class RecordError(ValueError):
    """An opportunity record the plan cannot use at all (stored data that was tampered with)."""


def record_id(record: Mapping[str, Any]) -> str:
    """An opportunity record's Id; a `StoredRecord`'s from its key column, without decoding it."""
    if isinstance(record, StoredRecord):
        return record.opportunity_id
    if not isinstance(record, Mapping) or "Id" not in record:
        members = sorted(map(str, record))[:10] if isinstance(record, Mapping) else type(record).__name__
        raise RecordError(
            f"opportunity record without 'Id' (it holds: {members}); allowed: a record with its Id"
        )
    return str(record["Id"])


class StoredRecord(Mapping[str, Any]):
    """An opportunity record kept as the JSON text of its frame row and decoded when it is read, so
    that a plan over many pairs holds one decoded record at a time instead of all of them.

    `opportunity_id` and `partner_opportunity_identifier` are the row's key columns, which
    `frames.opportunities_frame` writes from the record itself: the plan indexes records by them
    without decoding, and checks them against the record when it decodes it (`keys_match`)."""

    __slots__ = ("opportunity_id", "partner_opportunity_identifier", "text")

    def __init__(self, text: str, opportunity_id: str, partner_opportunity_identifier: str | None) -> None:
        self.text = text
        self.opportunity_id = opportunity_id
        self.partner_opportunity_identifier = partner_opportunity_identifier

    def decode(self) -> Any:
        return loads(self.text)

    def __getitem__(self, key: str) -> Any:
        return self.decode()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.decode())

    def __len__(self) -> int:
        return len(self.decode())

    def __repr__(self) -> str:
        return f"StoredRecord({self.opportunity_id!r})"

    def keys_match(self, record: Any) -> bool:
        """Whether `record` (this record decoded) has the Id and identifier the row says it has, as
        the plan's index reads them (`str(record["Id"])`, `record.get(...) or ""`)."""
        if not isinstance(record, Mapping) or "Id" not in record:
            return False
        ident = record.get("PartnerOpportunityIdentifier") or ""
        return (
            str(record["Id"]) == self.opportunity_id
            and isinstance(ident, str)
            and ident == (self.partner_opportunity_identifier or "")
        )
