"""What client-credentials tokens cost a reconcile, against a static token, on the same seed.

For each credential (a static private-app token; the developer-platform app's client credentials with
tokens that live `--lifetime` seconds, so a long run must renew them) two reconciles run: the first
load and a no-op. Printed per run: CRM calls, token requests, calls HubSpot refused (401), rows
created; then whether both credentials gave the same rows. Counts, not times.

    .venv/bin/python -m benchmarks.hubspot_auth --deals 200 --lifetime 5
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass

from benchmarks.harness import bench_stack, cosell_seed
from hspc_pipelines.emulators.stack import HUBSPOT_CLIENT_ID

TOKEN_ENDPOINT = "POST /oauth/v1/token"
MODES = {
    "private_app": {},
    "client_credentials": {"HSPC_HUBSPOT_AUTH": "client_credentials", "HUBSPOT_CLIENT_ID": HUBSPOT_CLIENT_ID},
}


@dataclass(frozen=True)
class RunFigures:
    mode: str
    run: str
    crm_calls: int
    token_requests: int
    refused: int
    rows: dict[str, int]
    success: bool

    @property
    def tokens_per_1000_calls(self) -> float:
        return 1000 * self.token_requests / self.crm_calls if self.crm_calls else 0.0


def measure(deals: int, lifetime: float) -> list[RunFigures]:
    out = []
    seed = cosell_seed(deals, recent=False)
    for mode, env in MODES.items():
        with bench_stack(seed, env=env) as bench:
            bench.stack.hubspot.configure(token_lifetime_seconds=lifetime)
            for run in ("first load", "no-op"):
                outcome, calls, _ = bench.reconcile()
                rows = Counter(str(s) for s in outcome.frames["hubspot_deal_writes"]["final_status"])
                out.append(
                    RunFigures(
                        mode=mode,
                        run=run,
                        crm_calls=calls.hubspot_total - calls.hubspot.get(TOKEN_ENDPOINT, 0),
                        token_requests=calls.hubspot.get(TOKEN_ENDPOINT, 0),
                        refused=int(calls.hubspot_statuses.get("401", 0)),
                        rows=dict(rows),
                        success=outcome.success,
                    )
                )
    return out


def same_work(figures: list[RunFigures]) -> bool:
    """Each run made the same rows and the same CRM calls whichever credential signed it."""
    by_run: dict[str, set[tuple[object, ...]]] = {}
    for f in figures:
        by_run.setdefault(f.run, set()).add((tuple(sorted(f.rows.items())), f.crm_calls))
    return all(len(v) == 1 for v in by_run.values())


def table(figures: list[RunFigures]) -> str:
    lines = [
        "| credential | run | CRM calls | token requests | per 1000 calls | 401s | rows | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        rows = ", ".join(f"{k} {v}" for k, v in sorted(f.rows.items()))
        lines.append(
            f"| {f.mode} | {f.run} | {f.crm_calls} | {f.token_requests} | {f.tokens_per_1000_calls:.1f} "
            f"| {f.refused} | {rows} | {f.success} |"
        )
    lines.append("")
    lines.append(f"same rows and CRM calls with either credential: {same_work(figures)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=200)
    parser.add_argument(
        "--lifetime", type=float, default=5.0, help="seconds a client-credentials token lives"
    )
    args = parser.parse_args(argv)
    print(table(measure(args.deals, args.lifetime)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
