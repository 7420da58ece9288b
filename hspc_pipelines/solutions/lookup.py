"""Partner solutions for the look-up routes: a source protocol, a cached default, filters and paging.

The default source reads ListSolutions through `PartnerCentralClient` and keeps the list for five
minutes: solutions change rarely and each call costs Partner Central read quota.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, get_args

from hspc_pipelines.solutions.matching import score, words

CACHE_SECONDS = 300.0
SolutionStatus = Literal["Active", "Inactive", "Draft", "All"]
STATUSES: tuple[str, ...] = get_args(SolutionStatus)


class SolutionsSource(Protocol):
    def list_solutions(self) -> list[dict[str, Any]]:
        """Solutions with keys Id, Name, Category, Status, Arn, CreatedDate."""
        ...


class PartnerCentralSolutionsSource:
    def __init__(
        self, ttl_seconds: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl, self._clock = ttl_seconds, clock
        self._lock = threading.Lock()
        self._cached: list[dict[str, Any]] | None = None
        self._fetched_at = 0.0

    def list_solutions(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._cached is None or self._clock() - self._fetched_at > self._ttl:
                # Imported here: the client module is optional for the rest of the ingress.
                from hspc_pipelines.partner_central.client import PartnerCentralClient

                self._cached = [dict(s) for s in PartnerCentralClient.from_env().list_solutions()]
                self._fetched_at = self._clock()
            return self._cached


class BadPageToken(ValueError):
    pass


def public_view(solution: Mapping[str, Any], detailed: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(solution.get("Id") or ""),
        "name": solution.get("Name"),
        "category": solution.get("Category"),
        "status": solution.get("Status"),
    }
    if detailed:
        created: Any = solution.get("CreatedDate")
        view["arn"] = solution.get("Arn")
        view["createdDate"] = created.isoformat() if hasattr(created, "isoformat") else created
    return view


def filtered(
    solutions: Sequence[Mapping[str, Any]], category: str | None, status: str
) -> list[Mapping[str, Any]]:
    def keep(s: Mapping[str, Any]) -> bool:
        if status != "All" and (s.get("Status") or "") != status:
            return False
        return not category or str(s.get("Category") or "").casefold() == category.casefold()

    return sorted(
        (s for s in solutions if keep(s)), key=lambda s: (str(s.get("Name") or ""), str(s.get("Id")))
    )


def ranked(solutions: Sequence[Mapping[str, Any]], query: str) -> list[tuple[Mapping[str, Any], int]]:
    """Solutions matching the query, best first, with a 0-100 relevance score (name words count double)."""
    query_words = words(query)
    hits = []
    for s in solutions:
        value = score({"name": s.get("Name"), "category": s.get("Category")}, query_words)
        if value > 0:
            hits.append((s, round(value * 100)))
    return sorted(hits, key=lambda h: (-h[1], str(h[0].get("Name") or ""), str(h[0].get("Id"))))


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadPageToken(token) from None
    if not text.startswith("o:") or not (text[2:].isascii() and text[2:].isdigit()) or len(text) > 12:
        raise BadPageToken(token)
    return int(text[2:])


def page(items: Sequence[Any], offset: int, limit: int) -> tuple[list[Any], str | None]:
    chunk = list(items[offset : offset + limit])
    return chunk, encode_token(offset + limit) if offset + limit < len(items) else None
