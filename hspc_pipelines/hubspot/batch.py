"""Results of batch calls: what succeeded, and exactly which inputs failed and why.

HubSpot answers a batch with 200, with 207 (some inputs failed, listed in `errors`), or with a
4xx/5xx for the whole chunk. Callers get one `BatchResult` for all chunks, so one bad input never
hides the others' results.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hspc_pipelines.hubspot.portal_rules import PortalRuleRefusal

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[tuple[int, Sequence[T]]]:
    """(offset, chunk) pairs of at most `size` items."""
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


@dataclass(frozen=True)
class BatchFailure:
    """One input that failed: its position in the caller's sequence, the input itself, and why."""

    position: int
    input: Any
    status: int
    category: str | None
    message: str
    # Set when a portal's required-property rule refused the input: the row is invalid, not failed.
    rule: PortalRuleRefusal | None = None

    @property
    def id(self) -> str | None:
        if isinstance(self.input, dict):
            value = self.input.get("id")
            return None if value is None else str(value)
        return None if self.input is None else str(self.input)

    def __str__(self) -> str:
        category = f" {self.category}" if self.category else ""
        return f"HTTP {self.status}{category}: {self.rule.describe() if self.rule else self.message}"


@dataclass
class BatchResult:
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[BatchFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def failed_ids(self) -> dict[str, str]:
        """Failed input id -> reason (inputs that carry an id: reads, updates, archives)."""
        return {f.id: str(f) for f in self.errors if f.id is not None}

    def failed_positions(self) -> dict[int, str]:
        """Failed input position -> reason (creates, whose inputs have no id yet)."""
        return {f.position: str(f) for f in self.errors}

    def refused_by_rules(self) -> set[int]:
        """Positions of the inputs a portal's required-property rule refused (invalid rows)."""
        return {f.position for f in self.errors if f.rule is not None}

    def failed_inputs(self) -> list[Any]:
        return [f.input for f in self.errors]

    def merge(self, other: BatchResult) -> None:
        self.results.extend(other.results)
        self.errors.extend(other.errors)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)
