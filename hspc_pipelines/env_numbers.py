"""Numbers from environment variables, refused with an error naming the variable, value and range."""

from __future__ import annotations

import math
import os
from collections.abc import Callable


class EnvNumberError(ValueError):
    """An environment variable holds a number the product cannot use."""


def _read(name: str, default: float, allowed: str, ok: Callable[[float], bool]) -> float:
    text = os.environ.get(name)
    if not text:  # unset and empty both mean the default
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and ok(value)):  # "nan" and "inf" parse, but pace nothing
        raise EnvNumberError(f"{name}={text!r} cannot be used; allowed: {allowed}")
    return value


def env_rate(name: str, default: float) -> float:
    """A number above 0, e.g. calls per second."""
    return _read(name, default, "a number above 0", lambda v: v > 0)


def env_seconds(name: str, default: float) -> float:
    """A duration in seconds, 0 or more (0: do not wait)."""
    return _read(name, default, "a number of seconds, 0 or more", lambda v: v >= 0)


def env_count(name: str, default: int, *, minimum: int) -> int:
    """A whole number of at least `minimum` ("10" and "10.0" both read as 10)."""
    allowed = f"a whole number, {minimum} or more"
    return int(_read(name, default, allowed, lambda v: v.is_integer() and v >= minimum))
