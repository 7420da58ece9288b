"""The promise that no exception escapes a public mapping function, kept in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from .errors import FieldError, MappingResult

P = ParamSpec("P")
INTERNAL = "<mapping>"


def internal_error(exc: BaseException) -> FieldError:
    return FieldError(
        INTERNAL,
        None,
        f"internal mapping error {type(exc).__name__}: {str(exc)[:200]}",
        "please report this input",
    )


def result_guard(func: Callable[P, MappingResult]) -> Callable[P, MappingResult]:
    """Any unexpected exception becomes a FieldError; the tests assert this never happens."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> MappingResult:
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the contract is "errors are returned"
            return MappingResult(None, [internal_error(exc)], [])

    return wrapper
