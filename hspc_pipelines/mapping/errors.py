"""What the mapping returns instead of raising: field errors, results with warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_MAX_SHOWN = 120  # long values are cut in messages so one bad field cannot flood a log line


def show(value: object) -> str:
    """A short, printable rendering of any value for an error message."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not break error reporting
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


@dataclass(frozen=True)
class FieldError:
    """One problem: which field, which value, what is wrong, what would be accepted."""

    field: str
    value: object
    message: str
    allowed: str | Sequence[str] | None = None

    @property
    def allowed_text(self) -> str:
        if self.allowed is None:
            return "see message"
        if isinstance(self.allowed, str):
            return self.allowed
        values = list(self.allowed)
        shown = ", ".join(values[:30])
        return shown + (f", … ({len(values)} values)" if len(values) > 30 else "")

    def __str__(self) -> str:
        return f"{self.field}: {self.message} (value: {show(self.value)}; allowed: {self.allowed_text})"


@dataclass
class MappingResult:
    """A request ready to send (`request`), or why not (`errors`); `warnings` never block.

    Warnings are strings starting with a code (`title_frozen: …`), as stored in plans; code that must
    act on one gets it typed instead (the title freeze: `vocabulary.TitleFrozen`, `UpdatePlan.title_frozen`).
    """

    request: dict[str, Any] | None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.request is not None and not self.errors
