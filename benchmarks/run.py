"""`python -m benchmarks.run [--deals N] [--scenarios a,b,...]`: run the benchmarks, print one table.

Scenarios (the issue's numbering): `reconcile` (1 first full reconcile, 2 no-op re-run, 3 1% edited,
6 no-op wall), `quota` (4), `engine` (5), `latency` (7). Nothing here is a timed test: the figures
are printed, and written to benchmarks/RESULTS.md unless --no-results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

from benchmarks import harness, storage
from benchmarks.harness import SINCE_DAYS
from benchmarks.scenarios import (
    Report,
    Row,
    engine_scenario,
    latency_scenario,
    quota_scenario,
    reconcile_scenarios,
)

ALL = ("reconcile", "quota", "engine", "latency")
RESULTS = Path(__file__).with_name("RESULTS.md")
QUOTAS_START, QUOTAS_END = "<!-- quotas: start -->", "<!-- quotas: end -->"


def _verdict(ok: bool | None) -> str:
    return {True: "pass", False: "MISS", None: "-"}[ok]


def table(rows: list[Row]) -> str:
    head = ["scenario", "figure", "measured", "target", "verdict", "Lambda baseline", "ratio", "note"]
    body = [
        [r.scenario, r.figure, r.measured, r.target, _verdict(r.ok), r.baseline, r.ratio, r.note]
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out = [line, sep]
    out += [
        "| " + " | ".join(c.replace("|", "/").ljust(w) for c, w in zip(b, widths, strict=True)) + " |"
        for b in body
    ]
    return "\n".join(out)


def machine() -> dict[str, str]:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = {}
    for pkg in (
        "dagster",
        "pandas",
        "duckdb",
        "boto3",
        "botocore",
        "requests",
        "moto",
        "uvicorn",
        "starlette",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus (nproc)": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "Dagster instance storage": harness.STORAGE,
        "load average before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def run(
    deals: int,
    scenarios: tuple[str, ...],
    *,
    baseline_deals: int,
    quota_deals: int,
    engine_pairs: int,
    quiet: bool = False,
    days: int = SINCE_DAYS,
) -> Report:
    def log(msg: str) -> None:
        if not quiet:
            print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    recent = days < SINCE_DAYS  # a short range: seed every deal as modified an hour ago
    report = Report()
    report.facts["range_days"] = days
    started = time.perf_counter()
    if "reconcile" in scenarios:
        reconcile_scenarios(report, deals, min(baseline_deals, deals), log, days, recent)
    if "quota" in scenarios:
        quota_scenario(report, quota_deals, log, days, recent)
    if "engine" in scenarios:
        engine_scenario(report, engine_pairs, log)
    if "latency" in scenarios:
        latency_scenario(report, log)
    report.facts["total_seconds"] = round(time.perf_counter() - started, 1)
    return report


def write_results(report: Report, argv: list[str], path: Path = RESULTS) -> None:
    info = machine()
    lines = ["# Benchmark results", "", "Produced by `python -m benchmarks.run` (`make bench`).", ""]
    lines += [f"- **{k}**: {v}" for k, v in info.items()]
    lines += [f"- **total benchmark time**: {report.facts.get('total_seconds')} s", ""]
    lines += ["## Figures", "", table(report.rows), ""]
    lines += [
        "## Reproduce",
        "",
        "```bash",
        "cd /work/main && make install",
        f"DAGSTER_HOME=$(mktemp -d) .venv/bin/python -m benchmarks.run {' '.join(argv)}".rstrip(),
        "```",
        "",
    ]
    lines += ["## Raw figures", "", "```", *(f"{k}: {v}" for k, v in report.facts.items()), "```", ""]
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        lines += [notes.read_text()]
    # Sections another command writes (the asset store: benchmarks/storage.py; the quotas:
    # benchmarks/quotas.py) are that command's: keep them as they are.
    old = path.read_text() if path.exists() else ""
    for start, end in ((storage.MARK_START, storage.MARK_END), (QUOTAS_START, QUOTAS_END)):
        if start in old and end in old:
            lines += ["", old[old.index(start) : old.index(end) + len(end)], ""]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--deals",
        type=int,
        default=1_000,
        help="deals for scenarios 1, 2, 3, 6 (the issue says 10,000: see RESULTS.md)",
    )
    parser.add_argument(
        "--scenarios", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}"
    )
    parser.add_argument(
        "--baseline-deals", type=int, default=1_000, help="deals the Lambda baseline runs (scaled to --deals)"
    )
    parser.add_argument("--quota-deals", type=int, default=1_000, help="deals for scenario 4 (quotas x20)")
    parser.add_argument("--engine-pairs", type=int, default=100_000, help="pairs for scenario 5")
    parser.add_argument(
        "--days",
        type=int,
        default=SINCE_DAYS,
        help="reconcile range in days (default covers the seed's 120 days; shorter seeds deals as modified today)",
    )
    parser.add_argument(
        "--storage",
        choices=("postgres", "sqlite"),
        default=harness.STORAGE,
        help="Dagster instance storage for the runs (postgres: as in production; sqlite: the local default)",
    )
    parser.add_argument("--no-results", action="store_true", help="do not write benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    chosen = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = set(chosen) - set(ALL)
    if unknown:
        parser.error(f"unknown scenario(s) {sorted(unknown)}; choose from {','.join(ALL)}")
    harness.STORAGE = args.storage
    warnings.filterwarnings("ignore")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    report = run(
        args.deals,
        chosen,
        baseline_deals=args.baseline_deals,
        quota_deals=args.quota_deals,
        engine_pairs=args.engine_pairs,
        days=args.days,
    )
    print(table(report.rows))
    if not args.no_results:
        write_results(report, argv)
        print(f"\nwritten to {RESULTS}")
    return 0 if all(r.ok is not False for r in report.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
