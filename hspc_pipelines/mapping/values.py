"""Reading HubSpot property values (strings or None, but trust nothing) and canonical forms."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .errors import FieldError

MAX_INPUT = 100_000  # longer property values are refused rather than processed


def get(props: object, key: str) -> object:
    if type(props) is dict:  # the common case, without the ABC check below
        return props.get(key)
    if not isinstance(props, Mapping):
        return None
    try:
        return props.get(key)
    except Exception:  # a hostile mapping must not escape as an exception
        return None


def text(props: object, key: str, errors: list[FieldError], label: str | None = None) -> str | None:
    """A stripped string, None for null/empty; numbers are accepted as their text, other types refused."""
    value = props.get(key) if type(props) is dict else get(props, key)
    if value is None:
        return None
    if type(value) is not str:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            errors.append(
                FieldError(label or key, value, f"expected text, got {type(value).__name__}", "a string")
            )
            return None
        value = str(value)
    out = value.strip()
    if len(out) > MAX_INPUT:
        errors.append(
            FieldError(label or key, out, f"value is {len(out)} characters long", f"at most {MAX_INPUT}")
        )
        return None
    return out or None


def collapse(value: str) -> str:
    return " ".join(value.split())


_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
MAX_AMOUNT = Decimal(10) ** 31  # the model's Amount pattern allows 31 integer digits


def parse_decimal(value: str) -> Decimal | None:
    if not _AMOUNT.fullmatch(value) or len(value) > 60:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def canonical_amount(value: object) -> str | None:
    """Amount as the model wants it and as the view compares it: 2 decimals at most, no trailing zeros."""
    if value is None or isinstance(value, bool):
        return None
    raw = str(value).strip()
    number = value if isinstance(value, Decimal) else parse_decimal(raw)
    if number is None or not number.is_finite() or number < 0 or number >= MAX_AMOUNT:
        return raw or None  # not an amount the model takes: shown as given
    quantized = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    out = format(quantized, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def to_date(value: object, timezone: str = "UTC") -> dt.date | None:
    """A calendar date from epoch milliseconds, an ISO date, an ISO date-time, a date or datetime.

    Date-times are read in `timezone` because HubSpot stores a date property as midnight in the
    portal's zone: read in UTC, a European portal's 31 December would become the 30th.
    """
    if type(value) is str and type(timezone) is str:
        return _text_to_date(value, timezone)
    return _to_date(value, timezone)


@functools.lru_cache(maxsize=16_384)
def _text_to_date(value: str, timezone: str) -> dt.date | None:
    """`to_date` of a string, memoised: close dates repeat across deals."""
    return _to_date(value, timezone)


def _to_date(value: object, timezone: str) -> dt.date | None:
    try:
        if isinstance(value, dt.datetime):
            stamp = value
        elif isinstance(value, dt.date):
            return value
        elif isinstance(value, str) and value.strip():
            raw = value.strip()
            if raw.isdigit() and len(raw) <= 15:
                stamp = dt.datetime.fromtimestamp(int(raw) / 1000, tz=dt.UTC)
            elif _DATE.fullmatch(raw):
                return dt.date.fromisoformat(raw)
            else:
                stamp = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        elif isinstance(value, int) and not isinstance(value, bool):
            stamp = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
        else:
            return None
        if stamp.tzinfo is None:
            return stamp.date()
        return stamp.astimezone(ZoneInfo(timezone)).date()
    except (ValueError, OverflowError, OSError, TypeError, KeyError):
        return None


def date_text(value: object) -> str | None:
    """YYYY-MM-DD for anything `to_date` reads (the view's date form); None otherwise."""
    day = to_date(value)
    return day.isoformat() if day else None


def hubspot_datetime(day: str | None, timezone: str = "UTC") -> str | None:
    """Midnight of a date in `timezone`, as the ISO UTC string HubSpot accepts for date-times."""
    parsed = to_date(day) if day else None
    if parsed is None:
        return None
    midnight = dt.datetime.combine(parsed, dt.time(), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)
    return midnight.strftime("%Y-%m-%dT%H:%M:%SZ")


def split_multi(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]


def string_member(value: Any) -> str | None:
    """A record member that must be a string, or None when it is missing or not one (a hostile
    record's list or number reads as an unknown value rather than failing whoever reads it)."""
    return value if isinstance(value, str) else None


def dig(record: object, *path: str) -> Any:
    """`record[a][b]…` or None when any step is missing or not a mapping."""
    current: Any = record
    for part in path:
        if type(current) is not dict and not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current
