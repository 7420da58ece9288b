"""The figures a run records: rows per final status, writes, API calls and throttling answers per
service, the share of Partner Central's daily write quota, run duration. Pure: counts in, numbers out.

Every status of `RowStatus` is always present (0 when no row has it), so Dagster's plots of a figure
have no gaps between runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hspc_pipelines.mapping.vocabulary import RowStatus

# The status the quota ledger (issue 19) gives a row it leaves for tomorrow; counted when present.
DEFERRED = "deferred"
SERVICES = ("hubspot", "partner_central")

Figure = int | float


@dataclass(frozen=True)
class CallFigures:
    """One service's calls in a step or run: logical calls, throttling answers, quota-counted writes."""

    calls: int = 0
    throttled: int = 0
    writes: int = 0

    def __add__(self, other: CallFigures) -> CallFigures:
        return CallFigures(
            self.calls + other.calls, self.throttled + other.throttled, self.writes + other.writes
        )

    def since(self, before: CallFigures) -> CallFigures:
        """What was counted after `before` was taken (clients count for their whole life)."""
        return CallFigures(
            self.calls - before.calls, self.throttled - before.throttled, self.writes - before.writes
        )


def call_figures(calls: Mapping[str, CallFigures]) -> dict[str, Figure]:
    """`api_calls_<service>`, `throttled_<service>`, `throttled_calls` and `partner_central_writes`."""
    out: dict[str, Figure] = {}
    for service in SERVICES:
        figures = calls.get(service, CallFigures())
        out[f"api_calls_{service}"] = figures.calls
        out[f"throttled_{service}"] = figures.throttled
    out["throttled_calls"] = sum(f.throttled for f in calls.values())
    out["partner_central_writes"] = calls.get("partner_central", CallFigures()).writes
    return out


def quota_share(writes: int, writes_per_day: int) -> float:
    """This run's Partner Central writes as a share (0..1, may exceed 1) of the daily write quota."""
    if writes_per_day <= 0:
        raise ValueError(f"writes_per_day={writes_per_day!r} cannot be used; allowed: 1 or more")
    return writes / writes_per_day


def row_figures(final_statuses: Mapping[str, int]) -> dict[str, Figure]:
    """`rows_<status>` for every row status (and any other status present), `rows_total`,
    `deferred_rows`."""
    out: dict[str, Figure] = {f"rows_{s.value}": 0 for s in RowStatus}
    for status, n in final_statuses.items():
        out[f"rows_{status}"] = int(n)
    out["rows_total"] = sum(int(n) for n in final_statuses.values())
    out["deferred_rows"] = int(final_statuses.get(DEFERRED, 0))
    return out


def flow_figures(
    rows_total: int,
    rows_failed: int,
    calls: Mapping[str, CallFigures],
    *,
    writes_per_day: int,
    duration_seconds: float,
) -> dict[str, Figure]:
    """What a co-sell run records on its last asset: its rows, failed rows, calls, quota share and
    duration (the names the reconcile uses, so one EMF mapping and one alarm serve both)."""
    out: dict[str, Figure] = {
        "rows_total": int(rows_total),
        "rows_failed": int(rows_failed),
        **call_figures(calls),
        "run_duration_seconds": round(float(duration_seconds), 3),
    }
    out["write_quota_share"] = quota_share(int(out["partner_central_writes"]), writes_per_day)
    return out


def reconcile_figures(
    final_statuses: Mapping[str, int],
    deal_writes: int,
    calls: Mapping[str, CallFigures],
    *,
    writes_per_day: int,
    duration_seconds: float,
) -> dict[str, Figure]:
    """Everything a reconcile run records on `hubspot_deal_writes` (docs/production.md, "Metrics")."""
    rows = row_figures(final_statuses)
    out: dict[str, Figure] = {
        **rows,
        "creates": rows[f"rows_{RowStatus.CREATED.value}"],
        "updates": rows[f"rows_{RowStatus.UPDATED.value}"],
        "deal_writes": int(deal_writes),
        **call_figures(calls),
        "run_duration_seconds": round(float(duration_seconds), 3),
    }
    out["write_quota_share"] = quota_share(int(out["partner_central_writes"]), writes_per_day)
    return out
