"""The quotas benchmark's machinery at a tiny size: counts only (created once, nothing failed, the
spent quota deferred and then resumed); the figures come from `python -m benchmarks.quotas`."""

from __future__ import annotations

from benchmarks.quotas import load_scenario, rows_for, someone_else_scenario


def test_a_tiny_time_scaled_first_load_creates_every_deal_once() -> None:
    figures = load_scenario(300, 10_000.0, lambda _: None, events_per_day=10, max_seconds=120)
    assert figures["quota_per_window"] == 100 and figures["reserve"] == 3
    assert figures["created_once"] == figures["opportunities_in_emulator"] == 300
    assert figures["created_more_than_once"] == figures["failed_rows"] == 0
    # three days' quota at least: the load needed the window to roll
    assert figures["scaled_days"] >= 2
    assert rows_for({"load": figures})[0][4] is True


def test_a_quota_spent_elsewhere_defers_then_resumes() -> None:
    figures = someone_else_scenario(lambda _: None, scale=4_320.0, deals=15)
    assert (figures["created_first_run"], figures["deferred_first_run"]) == (10, 5)
    assert figures["failed_rows"] == figures["left_at_end"] == 0
    assert figures["resumed_after_windows"] is not None and figures["resumed_after_windows"] >= 1
