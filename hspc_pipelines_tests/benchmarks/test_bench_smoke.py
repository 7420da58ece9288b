"""The benchmark machinery at a tiny size: the table is produced and its counts agree with each other.
Full-size runs are opt-in (`pytest -m bench`); nothing here asserts a timing."""

from __future__ import annotations

import pytest

from benchmarks.run import run, table
from benchmarks.scenarios import Report, Row


def _row(report: Report, figure: str, after: str = "") -> Row:
    seen = not after
    for r in report.rows:
        seen = seen or r.scenario.startswith(after)
        if seen and r.figure == figure:
            return r
    raise AssertionError(f"no row {figure!r} after {after!r} in\n{table(report.rows)}")


def test_bench_smoke_tiny() -> None:
    report = run(30, ("reconcile",), baseline_deals=10, quota_deals=0, engine_pairs=0, quiet=True, days=1)
    text = table(report.rows)
    assert "CreateOpportunity" in text and "Lambda baseline" in text

    creates = _row(report, "CreateOpportunity")
    assert creates.measured == "30 (valid deals 30)" and creates.ok, text
    assert _row(report, "per-deal HubSpot reads").measured == "0"
    noop = _row(report, "writes (HubSpot + PC)", "2 ")
    assert noop.measured == "0 + 0" and noop.ok, text
    assert _row(report, "UpdateOpportunity", "3 ").measured == "1 (1 rows updated)"
    # the baseline reads every deal one by one: 7 HubSpot calls per deal, plus one search page
    assert _row(report, "HubSpot calls (all)").baseline == f"{(7 * 10 + 1) * 3}"
    assert report.facts["first_run"]["pc"]["CreateOpportunity"] == 30


@pytest.mark.bench
def test_bench_full_size() -> None:
    report = run(
        10_000,
        ("reconcile", "quota", "engine"),
        baseline_deals=1_000,
        quota_deals=1_000,
        engine_pairs=100_000,
    )
    print(table(report.rows))
    assert report.rows


def test_engine_smoke_plans_twice_and_skips_every_settled_pair() -> None:
    from benchmarks.engine import main

    fig = main(200, quiet=True)
    first = fig["first_plan"]
    assert fig["pairs"] == 200 and first["operations"] == {"none": 200} == fig["operations"]
    assert first["recorded"] == 200 and first["skipped"] == 0
    assert fig["skipped"] == 200 and fig["recorded"] == 0 and fig["plan_rows"] == 200
