"""urllib3 `Retry` tuned to HubSpot: which calls may be repeated, and when repeating is pointless.

urllib3 already retries with backoff and honours `Retry-After`; this subclass only adds what it
cannot know from the method alone:

- a POST that creates (objects, batch/create, properties) is repeated only after a 429 or a failed
  connect, where HubSpot did nothing; after a 5xx or a lost response it may have created the
  records, and a second try would duplicate them. POSTs that read (batch/read, search,
  association reads) or that set values (batch/update, batch/archive) are safe to repeat.
- a 429 for the DAILY policy (`X-HubSpot-RateLimit-Daily-Remaining: 0`) or with a `Retry-After`
  longer than `max_retry_after` comes straight back to the client, which raises a clear error
  instead of sleeping for hours.
- every repeat goes through the client's pacer (which also reads the refused answer's rate-limit
  headers) and is counted in its stats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# POSTs safe to repeat after a 5xx: reads, updates, associations, and property creation (a repeat
# answers 409, which ensure_properties treats as "exists").
# Both path families (paths.py): numbered (`/crm/v4/associations/`) and date-based
# (`/crm/associations/2026-09/`).
_VERSION = r"(v\d+|\d{4}-\d{2}(-beta)?)"
_SAFE_POST = re.compile(
    r"(/search|/batch/(read|update|archive|upsert))$"
    rf"|^/crm/(v4/associations|associations/{_VERSION})/"
    rf"|^/crm/(v3/properties|properties/{_VERSION})/[^/]+$"
)


class RetryHooks(Protocol):
    def on_retry(self, method: str, path: str, status: int | None, headers: Mapping[str, str]) -> None: ...

    def before_resend(self, path: str) -> None: ...


def path_of(url: str | None) -> str:
    return (url or "").split("?", 1)[0]


def post_is_repeatable(path: str) -> bool:
    return bool(_SAFE_POST.search(path))


class HubSpotRetry(Retry):
    """Retry carrying the client's hooks across the copies urllib3 makes on each attempt."""

    max_retry_after: float = 120.0

    def __init__(self, *args: Any, hooks: RetryHooks | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.hooks = hooks
        self._resend_path = ""

    @classmethod
    def build(cls, max_retries: int, hooks: RetryHooks | None = None) -> HubSpotRetry:
        return cls(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            redirect=0,
            allowed_methods=frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "POST"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=0.5,
            backoff_max=30.0,
            backoff_jitter=0.25,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
            hooks=hooks,
        )

    def new(self, **kw: Any) -> HubSpotRetry:
        fresh = super().new(**kw)
        fresh.hooks = self.hooks
        return fresh

    def _give_up(self, path: str, response: Any) -> bool:
        status = response.status if response is not None else None
        if status == 429:
            if response.headers.get("X-HubSpot-RateLimit-Daily-Remaining") == "0":
                return True
            retry_after = self.get_retry_after(response)
            return retry_after is not None and retry_after > self.max_retry_after
        return False

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> HubSpotRetry:
        path = path_of(url)
        creates = method == "POST" and not post_is_repeatable(path)
        if creates and error is not None and not self._is_connection_error(error):
            raise error  # the request reached HubSpot; repeating it could create twice
        if (creates and response is not None and response.status != 429) or self._give_up(path, response):
            raise MaxRetryError(_pool, url or "", ResponseError(f"not repeated: HTTP {response.status}"))
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        fresh._resend_path = path
        if self.hooks:
            status = response.status if response is not None else None
            self.hooks.on_retry(method or "", path, status, response.headers if response is not None else {})
        return fresh

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.hooks:
            self.hooks.before_resend(self._resend_path)
