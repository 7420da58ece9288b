"""Timestamps the way HubSpot writes them: epoch ms inside, ISO-8601 with milliseconds and Z outside."""

from __future__ import annotations

import datetime as dt
import time

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


_clock = {
    "offset_ms": 0
}  # the emulated portal's clock ahead of this machine's (tests: "just before midnight")


def set_clock_offset_ms(offset_ms: int) -> None:
    """Move every HubSpot emulator's clock in this process (0 puts it back)."""
    _clock["offset_ms"] = int(offset_ms)


def clock_offset_ms() -> int:
    return _clock["offset_ms"]


def now_ms() -> int:
    return time.time_ns() // 1_000_000 + _clock["offset_ms"]


def iso_ms(ms: int) -> str:
    """`2024-05-01T12:00:00.123Z`, as HubSpot renders createdAt/updatedAt and datetime properties."""
    value = _EPOCH + dt.timedelta(milliseconds=ms)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_ms(value: object) -> int | None:
    """Epoch ms from ms digits, an ISO datetime or an ISO date; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int((parsed - _EPOCH) / dt.timedelta(milliseconds=1))


def date_only(ms: int) -> str:
    return (_EPOCH + dt.timedelta(milliseconds=ms)).strftime("%Y-%m-%d")
