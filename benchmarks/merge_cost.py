"""`python -m benchmarks.merge_cost [--pairs N]`: what the three-way merge and the proof of agreement
cost the plan (issue 15), as same-run shares and ratios, never absolute times.

- merge share: the part of a full plan (every pair mapped, with a base per pair) spent in
  `merge.merge_pair` (cProfile cumulative time; the deal's body is shared with the update check);
- agreement ratio: `agreement.agreement` over the same pairs against that plan, both timed in this
  process one after the other (the proof a sweep adds, relative to the plan it already makes).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from typing import Any

from benchmarks.engine import build_frames


def measure(pairs: int) -> dict[str, Any]:
    from hspc_pipelines.reconcile import frames
    from hspc_pipelines.reconcile.agreement import agreement
    from hspc_pipelines.reconcile.plan import build_plan

    deals_df, opps_df, config = build_frames(pairs)
    snaps = list(frames.deal_snapshots(deals_df))
    records, partitions = frames.opportunity_records(opps_df)
    records = [r.decode() if hasattr(r, "decode") else r for r in records]
    first = build_plan(snaps, records, partitions, config, "AWS")  # records the bases
    bases = {r.deal_id: r.base for r in first if r.deal_id and r.base}

    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    rows = build_plan(snaps, records, partitions, config, "AWS", bases=bases)
    profile.disable()
    plan_s = time.perf_counter() - start
    stats = pstats.Stats(profile)
    cumulative = {f"{func[0].rsplit('/', 1)[-1]}:{func[2]}": st[3] for func, st in stats.stats.items()}  # type: ignore[attr-defined]
    merge_s = cumulative.get("merge.py:merge_pair", 0.0)
    plan_profiled_s = cumulative.get("plan.py:build_plan", 0.0)

    start = time.perf_counter()
    report = agreement(snaps, records, config, bases)
    agreement_s = time.perf_counter() - start
    start = time.perf_counter()
    build_plan(snaps, records, partitions, config, "AWS", bases=bases)
    plan_again_s = time.perf_counter() - start
    return {
        "pairs": len(snaps),
        "operations": sorted({str(r.operation) for r in rows}),
        "bases": len(bases),
        "merge_share_of_plan": round(merge_s / plan_profiled_s, 3) if plan_profiled_s else None,
        "agreement_to_plan_ratio": round(agreement_s / plan_again_s, 3),
        "agreement_pairs": report.pairs,
        "agreement_passed": report.passed,
        "unprofiled_plan_to_profiled_ratio": round(plan_again_s / plan_s, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=5000)
    args = parser.parse_args(argv)
    for key, value in measure(args.pairs).items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
