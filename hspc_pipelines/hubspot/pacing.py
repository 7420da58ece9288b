"""Client-side pacing for HubSpot's rolling rate limits.

HubSpot counts requests in a rolling window (190 per 10 s for private apps, a separate ~5/s for
search). A sliding-window log mirrors that exactly, so a run at full speed stays just under the
limit instead of learning it from 429s. The window also listens to HubSpot's
`X-HubSpot-RateLimit-*` headers: when the server says fewer requests remain than we think (another
process shares the token), the difference is booked as phantom requests that age out with the window.

Why not a maintained limiter (pyrate-limiter, limits): they keep the same sliding window, but none
takes the server's remaining-count headers as feedback, which is the part that keeps two processes on
one token under HubSpot's limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from hspc_pipelines.settings import Settings


DEFAULT_REQUESTS_PER_10S = 190  # HubSpot's private-app limit
DEFAULT_SEARCH_PER_SECOND = 4.0  # under the search endpoints' ~5/s


class HubSpotPacing(TypedDict):
    requests_per_10s: int
    search_per_second: float


def pacing_from_settings(settings: Settings) -> HubSpotPacing:
    """HSPC_HUBSPOT_REQUESTS_PER_10S and HSPC_HUBSPOT_SEARCH_PER_SECOND, as the clients take them."""
    return {
        "requests_per_10s": settings.hubspot_requests_per_10s,
        "search_per_second": settings.hubspot_search_per_second,
    }


class SlidingWindowPacer:
    """At most `limit` requests in any `period` seconds; thread-safe, blocks until allowed.

    A request occupies the window from when it is sent until `period` after its answer came back
    (`complete`): HubSpot stamps it somewhere in between, so counting from the answer keeps network
    jitter from letting a request arrive inside the server's window early.
    """

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError(f"pacing needs limit >= 1 and period > 0, got {limit} per {period}s")
        self.limit = limit
        self.period = period
        self._slots: list[list[float]] = []  # one mutable [time] per request in the window
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0  # total seconds callers spent waiting: visible in benchmarks

    @classmethod
    def per_second(cls, rate: float) -> SlidingWindowPacer:
        """`rate` per second, as whole requests per window (2.5/s -> 5 per 2 s)."""
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        limit = max(1, round(rate)) if rate >= 1 else 1
        return cls(limit, limit / rate)

    def _prune(self, now: float) -> None:
        self._slots = [slot for slot in self._slots if slot[0] > now - self.period]

    def acquire(self) -> list[float]:
        """Wait for room; returns the request's slot, to hand to `complete` when answered."""
        while True:
            with self._lock:
                now = self._clock()
                self._prune(now)
                if len(self._slots) < self.limit:
                    slot = [now]
                    self._slots.append(slot)
                    return slot
                wait = min(slot[0] for slot in self._slots) + self.period - now
                self.waited += wait
            self._sleep(max(wait, 0.001))

    def complete(self, slot: list[float]) -> None:
        with self._lock:
            slot[0] = max(slot[0], self._clock())

    def observe(self, remaining: int, max_requests: int | None = None, period: float | None = None) -> None:
        """Align with the server's count: book phantom requests for quota used elsewhere."""
        with self._lock:
            if max_requests and 0 < max_requests < self.limit:
                self.limit = max_requests
            if period and period > 0:
                self.period = period
            now = self._clock()
            self._prune(now)
            deficit = (self.limit - len(self._slots)) - max(remaining, 0)
            self._slots.extend([now] for _ in range(min(deficit, self.limit)))


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class HubSpotPacer:
    """The general 10-second window plus the search window; search calls count against both."""

    def __init__(self, requests_per_10s: int, search_per_second: float) -> None:
        self.general = SlidingWindowPacer(requests_per_10s, 10.0)
        self.search = SlidingWindowPacer.per_second(search_per_second)
        # (daily limit, remaining) as HubSpot last said (X-HubSpot-RateLimit-Daily[-Remaining]);
        # None until an answer carries them (OAuth apps have no daily limit and get neither).
        self.daily: tuple[int, int] | None = None

    def acquire(self, is_search: bool) -> list[tuple[SlidingWindowPacer, list[float]]]:
        """Wait for room in the windows the call counts against; returns what to `complete`."""
        taken = [(self.search, self.search.acquire())] if is_search else []
        taken.append((self.general, self.general.acquire()))
        return taken

    @staticmethod
    def complete(taken: list[tuple[SlidingWindowPacer, list[float]]]) -> None:
        for pacer, slot in taken:
            pacer.complete(slot)

    def observe(self, headers: Mapping[str, str]) -> None:
        daily, daily_left = (
            _int(headers, "X-HubSpot-RateLimit-Daily"),
            _int(headers, "X-HubSpot-RateLimit-Daily-Remaining"),
        )
        if daily is not None and daily_left is not None:
            self.daily = (daily, daily_left)
        remaining = _int(headers, "X-HubSpot-RateLimit-Remaining")
        if remaining is not None:
            interval_ms = _int(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
            self.general.observe(
                remaining,
                _int(headers, "X-HubSpot-RateLimit-Max"),
                interval_ms / 1000 if interval_ms else None,
            )
