"""Every HubSpot call hspc makes, by path family, before and after date-based versions (issue 21):
`python -m benchmarks.api_families [--deals N] [--invitations K]`.

The same work runs twice against the emulators, once with `HSPC_HUBSPOT_API_VERSION=legacy` (the
numbered v3/v4 paths hspc called before) and once at `2026-09`: a reconcile of N co-sell deals (first
load: creates, links, write-back, notes), K invitations accepted into deals (`sync_invitations`), one
submission (`submit_opportunity`) and `hspc doctor` (token, properties, pipelines). Tasks are created
only for AWS notifications with HSPC_NOTIFY_TASKS on; they go through the same objects paths. The emulator counts each call it answers by endpoint; the table
groups them by API (objects, batch, search, properties, pipelines, associations, notes, tasks, token)
and path family. Counts are deterministic for a seed; no times are reported.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import Counter

import requests

from benchmarks.harness import FAST_ENV, QUIET, Bench, cosell_seed
from hspc_pipelines.doctor.checks import run_checks
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.paths import end_of_support
from hspc_pipelines.settings import load_settings
from hspc_pipelines_tests.support.cosell import CONTACTS

VERSIONS = ("legacy", "2026-09")


def api_group(endpoint: str) -> str:
    """`POST /crm/objects/2026-09/deals/batch/read` -> `batch (deals)`; notes and tasks on their own."""
    path = endpoint.partition(" ")[2]
    parts = [p for p in path.split("/") if p]
    if path.startswith("/oauth/"):
        return "token"
    if "associations" in parts:
        return "associations"
    if "properties" in parts:
        return "properties"
    if "pipelines" in parts:
        return "pipelines"
    if "objects" in parts:
        object_type = parts[3]  # /crm/v3/objects/{type} and /crm/objects/{version}/{type} alike
        kind = "search" if path.endswith("/search") else "batch" if "/batch/" in path else "objects"
        if object_type in ("notes", "tasks"):
            return object_type
        return kind
    return "other"


def family(endpoint: str) -> str:
    path = endpoint.partition(" ")[2]
    if re.search(r"/\d{4}-\d{2}(-beta)?(/|$)", path):
        return "date-based"
    return "numbered" if re.search(r"/v\d+(/|$)", path) else "unversioned"


def _send_invitation(env: dict[str, str], n: int) -> str:
    company = f"Northwind {n}"
    body = {
        "Payload": {
            "Customer": {
                "CompanyName": company,
                "WebsiteUrl": f"https://www.northwind{n}.example",
                "CountryCode": "US",
                "Industry": "Retail",
            },
            "Project": {
                "Title": f"{company} data platform",
                "BusinessProblem": "Legacy warehouse cannot scale with seasonal demand; they want a "
                "managed analytics platform on AWS.",
                "TargetCompletionDate": "2031-03-31",
                "ExpectedCustomerSpend": [
                    {"Amount": "25000", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
                ],
            },
        },
        "InvitationMessage": "Let's co-sell",
        "CustomerContacts": CONTACTS,
    }
    url = env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"].rstrip("/") + "/_emulator/invitations"
    response = requests.post(url, json=body, timeout=10)
    response.raise_for_status()
    return str(response.json()["Id"])


def run_once(version: str, deals: int, invitations: int) -> Counter[str]:
    """The emulator's calls, by endpoint, for one reconcile + invitations + one submission."""
    with tempfile.TemporaryDirectory() as home, EmulatorStack() as stack:
        bench = Bench(stack, home, FAST_ENV, env={"HSPC_HUBSPOT_API_VERSION": version})
        try:
            stack.hubspot.load_seed(cosell_seed(deals, recent=True))
            bootstrap_properties(
                HubSpotClient(
                    stack.env["HUBSPOT_ACCESS_TOKEN"], stack.env["HUBSPOT_BASE_URL"], api_version=version
                )
            )
            outcome, _, _ = bench.reconcile()  # resets the counters first
            assert outcome.success, "the reconcile failed"
            for n in range(invitations):
                _send_invitation(stack.env, n)
            job = bench.defs.resolve_job_def("sync_invitations")
            assert job.execute_in_process(instance=bench.instance, run_config=QUIET).success
            linked = next(
                str(r["deal_id"])
                for r in outcome.frames["hubspot_deal_writes"].to_dict("records")
                if r["final_status"] == "created"
            )
            submit = bench.defs.resolve_job_def("submit_opportunity")
            config = {
                **QUIET,
                "ops": {
                    "submission": {
                        "config": {"deal_id": linked, "involvement_type": "Co-Sell", "visibility": "Full"}
                    }
                },
            }
            assert submit.execute_in_process(instance=bench.instance, run_config=config).success
            # `hspc doctor`: the token introspection, properties and pipelines only it reads
            list(run_checks(load_settings()))
            return Counter(stack.hubspot.stats()["calls"])
        finally:
            bench.restore_env()


def table(results: dict[str, Counter[str]]) -> str:
    groups = sorted({api_group(e) for calls in results.values() for e in calls})
    lines = [
        "| API | " + " | ".join(f"{v}: numbered | {v}: date-based" for v in results) + " |",
        "| --- |" + " ---: | ---: |" * len(results),
    ]
    totals: dict[str, Counter[str]] = {v: Counter() for v in results}
    for group in groups:
        cells = []
        for version, calls in results.items():
            by_family: Counter[str] = Counter()
            for endpoint, n in calls.items():
                if api_group(endpoint) == group:
                    by_family[family(endpoint)] += n
            totals[version].update(by_family)
            cells += [str(by_family["numbered"]), str(by_family["date-based"])]
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    lines.append(
        "| **all** | "
        + " | ".join(f"**{totals[v]['numbered']}** | **{totals[v]['date-based']}**" for v in results)
        + " |"
    )
    return "\n".join(lines)


def numbered_left(calls: Counter[str]) -> dict[str, tuple[int, str | None]]:
    return {e: (n, end_of_support(e.partition(" ")[2])) for e, n in calls.items() if family(e) == "numbered"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deals", type=int, default=20)
    parser.add_argument("--invitations", type=int, default=3)
    args = parser.parse_args(argv)
    results = {v: run_once(v, args.deals, args.invitations) for v in VERSIONS}
    print(
        f"{args.deals} co-sell deals reconciled, {args.invitations} invitations, 1 submission, hspc doctor\n"
    )
    print(table(results))
    after = results[VERSIONS[-1]]
    share = sum(n for e, n in after.items() if family(e) == "date-based") / max(1, sum(after.values()))
    print(
        f"\nat {VERSIONS[-1]}: {share:.1%} of calls date-based; numbered left: {numbered_left(after) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
