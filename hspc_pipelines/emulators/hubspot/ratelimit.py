"""HubSpot's rate limits: a rolling 10-second window per token, a per-second search window, a daily quota.

`None` means unlimited; the headers then report a large nominal limit so clients never slow down
for a limit that is not enforced. The daily quota resets when the day turns (HubSpot: midnight), and
the day's length is a setting (`daily_window_seconds`), so tests and benchmarks can scale a day by
the same factor as the per-second limits; a request refused by it is answered 429 `DAILY`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

NOMINAL_MAX = 1_000_000


class RollingWindow:
    def __init__(self, limit: int | None, period: float) -> None:
        self.limit = limit
        self.period = period
        self._stamps: deque[float] = deque()

    def _prune(self, now: float) -> None:
        edge = now - self.period
        stamps = self._stamps
        while stamps and stamps[0] <= edge:
            stamps.popleft()

    def try_acquire(self, now: float) -> bool:
        if self.limit is None:
            return True
        self._prune(now)
        if len(self._stamps) >= self.limit:
            return False
        self._stamps.append(now)
        return True

    def remaining(self, now: float) -> int:
        if self.limit is None:
            return NOMINAL_MAX
        self._prune(now)
        return max(self.limit - len(self._stamps), 0)


@dataclass
class RateLimiter:
    """One set of windows per access token, as HubSpot counts per app/token."""

    per_10s: int | None = None
    search_per_second: int | None = None
    daily: int | None = None
    daily_window_seconds: float = 86_400.0
    _windows: dict[str, tuple[RollingWindow, RollingWindow]] = field(default_factory=dict)
    _daily_used: dict[str, int] = field(default_factory=dict)
    _day: int = -1

    def _turn_day(self) -> None:
        """Forget the daily counts when the day (of `daily_window_seconds`) has turned."""
        day = int(time.time() // self.daily_window_seconds)
        if day != self._day:
            self._day = day
            self._daily_used.clear()

    def _for(self, token: str) -> tuple[RollingWindow, RollingWindow]:
        pair = self._windows.get(token)
        if pair is None:
            pair = self._windows[token] = (
                RollingWindow(self.per_10s, 10.0),
                RollingWindow(self.search_per_second, 1.0),
            )
        return pair

    def check(self, token: str, is_search: bool) -> str | None:
        """Book one request; return the policy name that refused it, or None when allowed."""
        now = time.monotonic()
        general, search = self._for(token)
        self._turn_day()
        if self.daily is not None and self._daily_used.get(token, 0) >= self.daily:
            return "DAILY"
        if is_search and not search.try_acquire(now):
            return "SECONDLY"
        if not general.try_acquire(now):
            return "TEN_SECONDLY_ROLLING"
        self._daily_used[token] = self._daily_used.get(token, 0) + 1
        return None

    def headers(self, token: str) -> dict[str, str]:
        general, _ = self._for(token)
        self._turn_day()
        daily = self.daily if self.daily is not None else NOMINAL_MAX
        return {
            "X-HubSpot-RateLimit-Max": str(self.per_10s if self.per_10s is not None else NOMINAL_MAX),
            "X-HubSpot-RateLimit-Remaining": str(general.remaining(time.monotonic())),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Daily": str(daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(daily - self._daily_used.get(token, 0), 0)),
        }

    def configure(
        self,
        per_10s: int | None,
        search_per_second: int | None,
        daily: int | None,
        daily_window_seconds: float | None = None,
    ) -> None:
        self.per_10s, self.search_per_second, self.daily = per_10s, search_per_second, daily
        if daily_window_seconds is not None:
            if daily_window_seconds <= 0:
                raise ValueError(f"daily_window_seconds must be above 0, got {daily_window_seconds}")
            self.daily_window_seconds = float(daily_window_seconds)
        self._windows.clear()

    def spend_daily(self, token: str, count: int) -> int:
        """Another app of the account spends `count` of the token's daily quota; what is left."""
        self._turn_day()
        self._daily_used[token] = self._daily_used.get(token, 0) + count
        daily = self.daily if self.daily is not None else NOMINAL_MAX
        return max(daily - self._daily_used[token], 0)

    def reset(self) -> None:
        self._windows.clear()
        self._daily_used.clear()


RATE_LIMIT_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}
