"""Search request bodies for a window of `hs_lastmodifieddate`, and the rules HubSpot sets on them.

HubSpot's search stops at 10,000 results per query (HTTP 400 past it), so a window that holds more
is split in two on `hs_lastmodifieddate` until each half fits. Windows are half-open
[start, end) in epoch milliseconds, sorted ascending, so splitting neither loses nor repeats objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

SEARCH_RESULT_CAP = 10_000
SEARCH_PAGE_MAX = 200
MAX_FILTER_GROUPS = 5
MAX_FILTERS = 25
MODIFIED = "hs_lastmodifieddate"


def epoch_ms(value: dt.datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


def window_filter_groups(
    start_ms: int, end_ms: int, extra: Sequence[Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Filter groups for [start_ms, end_ms) ANDed with `extra`.

    `extra` is either a list of filters (all ANDed) or a list of filter groups (`{"filters": [...]}`,
    ORed); the window is added to every group.
    """
    window = [
        {"propertyName": MODIFIED, "operator": "GTE", "value": str(start_ms)},
        {"propertyName": MODIFIED, "operator": "LT", "value": str(end_ms)},
    ]
    extra = list(extra or [])
    if extra and all("filters" in item for item in extra):
        groups = [{"filters": window + list(g["filters"])} for g in extra]
    elif any("filters" in item for item in extra):
        raise ValueError("extra_filters mixes filters and filter groups; pass one kind")
    else:
        groups = [{"filters": window + [dict(f) for f in extra]}]
    check_filter_limits(groups)
    return groups


def check_filter_limits(groups: Sequence[Mapping[str, Any]]) -> None:
    total = sum(len(g.get("filters", ())) for g in groups)
    if len(groups) > MAX_FILTER_GROUPS or total > MAX_FILTERS:
        raise ValueError(
            f"HubSpot search allows {MAX_FILTER_GROUPS} filter groups and {MAX_FILTERS} filters; "
            f"got {len(groups)} groups and {total} filters"
        )


def split(start_ms: int, end_ms: int) -> tuple[tuple[int, int], tuple[int, int]]:
    mid = start_ms + (end_ms - start_ms) // 2
    return (start_ms, mid), (mid, end_ms)
