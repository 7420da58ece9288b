"""Fault injection for API calls: a random rate over chosen kinds, or an exact schedule.

`{"rate": 0.1, "kinds": ["ThrottlingException", "InternalServerException"], "seed": 1}` or
`{"schedule": ["ThrottlingException", "ok", "slow"], "delay_seconds": 0.5}`; optional
`"operations": [...]` limits faults to those operations. "slow" answers normally after the delay.
A faulted call changes nothing (the fault is decided before the handler runs).
"""

from __future__ import annotations

import random
from collections import Counter, deque
from typing import Any

from .errors import ApiError

KINDS = (
    "ThrottlingException",
    "InternalServerException",
    "ConflictException",
    "ServiceQuotaExceededException",
    "AccessDeniedException",
    "slow",
)
MESSAGES = {
    "ThrottlingException": "Rate exceeded",
    "InternalServerException": "An internal error occurred (injected)",
    "ConflictException": "The request conflicts with the current state of the resource (injected)",
    "ServiceQuotaExceededException": "Service quota exceeded (injected)",
    "AccessDeniedException": "User is not authorized to perform this action (injected)",
}


class FaultInjector:
    def __init__(self) -> None:
        self.injected: Counter[str] = Counter()
        self.clear()

    def clear(self) -> None:
        self.rate = 0.0
        self.kinds: tuple[str, ...] = ()
        self.schedule: deque[str] = deque()
        self.operations: frozenset[str] | None = None
        self.delay_seconds = 0.5
        self._rng = random.Random(0)

    def configure(self, spec: dict[str, Any]) -> None:
        kinds = tuple(spec.get("kinds") or ())
        schedule = list(spec.get("schedule") or ())
        unknown = sorted({k for k in (*kinds, *schedule) if k not in KINDS and k != "ok"})
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; allowed: {list(KINDS)} and 'ok'")
        rate = float(spec.get("rate", 0.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if rate and not kinds:
            raise ValueError("a fault rate needs kinds")
        self.clear()
        self.rate, self.kinds, self.schedule = rate, kinds, deque(schedule)
        ops = spec.get("operations")
        self.operations = frozenset(ops) if ops else None
        self.delay_seconds = float(spec.get("delay_seconds", 0.5))
        self._rng = random.Random(spec.get("seed", 0))

    def describe(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "schedule": list(self.schedule),
            "operations": sorted(self.operations) if self.operations else None,
            "delay_seconds": self.delay_seconds,
            "injected": dict(self.injected),
        }

    def draw(self, operation: str) -> str | None:
        """The fault for this call, or None; consumes one schedule entry when one applies."""
        if self.operations is not None and operation not in self.operations:
            return None
        kind: str | None
        if self.schedule:
            kind = self.schedule.popleft()
            kind = None if kind == "ok" else kind
        elif self.rate and self._rng.random() < self.rate:
            kind = self._rng.choice(self.kinds)
        else:
            return None
        if kind:
            self.injected[kind] += 1
        return kind


def fault_error(kind: str) -> ApiError:
    return ApiError(kind, MESSAGES[kind])
