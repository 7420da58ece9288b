"""Fault injection: answer some API calls with 429/5xx or slowly, at a rate or on a fixed schedule.

A schedule is consumed one entry per matching call ("ok" lets a call through); a rate draws from a
seeded random generator so a failing test replays the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

KINDS = frozenset({"429", "500", "502", "503", "504", "slow", "500_after", "ok"})


@dataclass
class Fault:
    kind: str
    delay_seconds: float = 0.0


@dataclass
class FaultInjector:
    rate: float = 0.0
    kinds: list[str] = field(default_factory=lambda: ["500"])
    delay_seconds: float = 0.0
    schedule: list[str] = field(default_factory=list)
    match: str | None = None
    _rng: random.Random = field(default_factory=random.Random)
    injected: dict[str, int] = field(default_factory=dict)

    def configure(self, spec: dict[str, Any]) -> None:
        """`{"rate", "kinds", "delay_seconds", "seed", "schedule", "match"}`; unknown kinds are refused."""
        kinds = [str(k) for k in spec.get("kinds") or ["500"]]
        schedule = [str(k) for k in spec.get("schedule") or []]
        bad = sorted(set(kinds + schedule) - KINDS)
        if bad:
            raise ApiError(400, f"Unknown fault kinds {bad}; use {sorted(KINDS)}")
        rate = float(spec.get("rate", 0.0))
        if not 0.0 <= rate <= 1.0:
            raise ApiError(400, f"rate must be between 0 and 1, got {rate}")
        self.rate, self.kinds, self.schedule = rate, kinds, schedule
        self.delay_seconds = float(spec.get("delay_seconds", 0.0))
        self.match = spec.get("match")
        self._rng = random.Random(spec.get("seed", 0))

    def clear(self) -> None:
        self.configure({})
        self.injected.clear()

    def draw(self, method: str, path: str) -> Fault | None:
        """The fault for this call, if any; only API paths (and `match` substrings) are eligible."""
        if self.match and self.match not in f"{method} {path}":
            return None
        if self.schedule:
            kind = self.schedule.pop(0)
        elif self.rate and self._rng.random() < self.rate:
            kind = self._rng.choice(self.kinds)
        else:
            return None
        if kind == "ok":
            return None
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return Fault(kind, self.delay_seconds if kind == "slow" else 0.0)

    def describe(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": self.kinds,
            "delay_seconds": self.delay_seconds,
            "schedule": list(self.schedule),
            "match": self.match,
            "injected": dict(self.injected),
        }
