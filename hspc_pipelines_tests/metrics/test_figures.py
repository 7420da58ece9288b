"""The run figures: every status present, totals that add up, the quota share, call deltas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.mapping.vocabulary import RowStatus
from hspc_pipelines.metrics.figures import (
    DEFERRED,
    CallFigures,
    quota_share,
    reconcile_figures,
    row_figures,
)

statuses = st.dictionaries(
    st.sampled_from([s.value for s in RowStatus] + [DEFERRED]), st.integers(0, 10_000), max_size=12
)
calls = st.builds(CallFigures, st.integers(0, 10**6), st.integers(0, 10**4), st.integers(0, 10**4))


@given(statuses)
def test_every_status_is_a_figure_and_the_total_adds_up(counts: dict[str, int]) -> None:
    figures = row_figures(counts)
    for status in RowStatus:
        assert figures[f"rows_{status.value}"] == counts.get(status.value, 0)
    assert figures["rows_total"] == sum(counts.values())
    assert figures["deferred_rows"] == counts.get(DEFERRED, 0)


@given(calls, calls)
def test_since_undoes_add(before: CallFigures, step: CallFigures) -> None:
    assert (before + step).since(before) == step


@given(statuses, calls, calls, st.integers(1, 10**6), st.floats(0, 10**5, allow_nan=False))
def test_reconcile_figures(
    counts: dict[str, int], hubspot: CallFigures, pc: CallFigures, per_day: int, seconds: float
) -> None:
    figures = reconcile_figures(
        counts,
        7,
        {"hubspot": hubspot, "partner_central": pc},
        writes_per_day=per_day,
        duration_seconds=seconds,
    )
    assert figures["creates"] == counts.get("created", 0)
    assert figures["updates"] == counts.get("updated", 0)
    assert figures["deal_writes"] == 7
    assert figures["api_calls_hubspot"] == hubspot.calls
    assert figures["api_calls_partner_central"] == pc.calls
    assert figures["throttled_calls"] == hubspot.throttled + pc.throttled
    # HubSpot has no write quota of the kind: only Partner Central's writes count
    assert figures["partner_central_writes"] == pc.writes
    assert figures["write_quota_share"] == pytest.approx(pc.writes / per_day)
    assert figures["run_duration_seconds"] == pytest.approx(seconds, abs=0.001)
    assert all(isinstance(v, int | float) for v in figures.values())


def test_quota_share_of_the_default_quota() -> None:
    assert quota_share(2_500, 10_000) == 0.25
    with pytest.raises(ValueError, match="writes_per_day=0 cannot be used; allowed: 1 or more"):
        quota_share(1, 0)
