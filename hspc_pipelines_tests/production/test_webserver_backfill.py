"""The UI: `dagster dev` (webserver, daemon, code server) on a free loopback port with a temporary
DAGSTER_HOME (the local SQLite instance, dagster.yaml) and the emulator stack's environment.

- A backfill of the reconcile assets over 3 recent daily partitions, launched through the
  webserver's GraphQL API (`launchPartitionBackfill`), completes: backfill COMPLETED_SUCCESS, its
  run(s) succeeded, and the Partner Central emulator holds one opportunity per co-sell deal modified
  in those days (and none for the others).
- Headless Chromium (Debian's `chromium` at /usr/bin/chromium) renders the reconcile group's asset
  graph page, and the page lists the reconcile assets and the external systems they connect to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines_tests.support.dagster_dev import DevServer
from hspc_pipelines_tests.support.dagster_ui import (
    BACKFILL,
    CHROMIUM,
    DONE,
    EXTERNAL_LABELS,
    GRAPH_PATH,
    LAUNCH_BACKFILL,
    chromium,
)
from hspc_pipelines_tests.support.environment import product_env
from hspc_pipelines_tests.support.names import RECONCILE_ASSETS
from hspc_pipelines_tests.support.processes import wait_for
from hspc_pipelines_tests.support.seeded import Seeded

BACKFILL_TIMEOUT = 150  # the backfill daemon iterates every 30 s: launch, run, completion


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, Seeded]]:
    tmp = tmp_path_factory.mktemp("ui")
    with EmulatorStack() as stack:
        data = generate_seed(30, seed=11, junk_ratio=0.0, cosell_ratio=1.0, now_ms=anchor_now())
        stack.hubspot.load_seed(data)
        now = dt.datetime.now(dt.UTC)
        env = product_env(
            stack,
            tmp / "dagster_home",
            # No scheduled reconcile during the test (once a day, 12 hours from now): the backfill
            # is the only thing that writes.
            HSPC_RECONCILE_CRON=f"{(now.minute + 30) % 60} {(now.hour + 12) % 24} * * *",
            HSPC_EVENTS_TICK_BUDGET_SECONDS="5",
        )
        with DevServer(tmp / "dagster_home", env, tmp / "dagster-dev.log") as server:
            yield server, Seeded(stack=stack, data=data)


def _three_recent_days(seeded: Seeded) -> list[str]:
    """The 3 consecutive days (ending no later than today) with the most co-sell deal changes."""
    today = dt.date.fromisoformat(seeded.today)
    best: list[str] = []
    best_count = -1
    for back in range(0, 60):
        end = today - dt.timedelta(days=back)
        days = [(end - dt.timedelta(days=i)).isoformat() for i in (2, 1, 0)]
        count = len(seeded.cosell_ids_modified(days[0], days[-1]))
        if count > best_count:
            best, best_count = days, count
    return best


@dataclass
class Backfill:
    id: str
    days: list[str]
    expected: set[str]


@pytest.fixture(scope="module")
def backfill(ui: tuple[DevServer, Seeded]) -> Backfill:
    """Launched once, early: the Chromium check runs while the daemon works through it."""
    server, seeded = ui
    days = _three_recent_days(seeded)
    expected = seeded.cosell_ids_modified(days[0], days[-1])
    assert expected, "the seed has no co-sell deal in any 3-day window"
    params = {
        "partitionNames": days,
        "assetSelection": [{"path": [name]} for name in RECONCILE_ASSETS],
        "fromFailure": False,
        "title": "hspc production test",
    }
    launched = server.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return Backfill(launched["backfillId"], days, expected)


LINEAGE = """
{ assetNodes(group: {groupName: "reconcile", repositoryName: "__repository__",
                     repositoryLocationName: "hspc_pipelines.definitions"}) {
    assetKey { path } dependencyKeys { path } } }
"""


def test_webserver_serves_the_reconcile_lineage(ui: tuple[DevServer, Seeded]) -> None:
    """The graph the page draws, as the webserver serves it: snapshot -> plan -> apply -> write back,
    starting and ending at the external HubSpot and Partner Central assets."""
    server, _ = ui
    nodes = server.graphql(LINEAGE)["assetNodes"]
    edges = {
        ("/".join(d["path"]), "/".join(n["assetKey"]["path"])) for n in nodes for d in n["dependencyKeys"]
    }
    assert {"/".join(n["assetKey"]["path"]) for n in nodes} == set(RECONCILE_ASSETS)
    assert {
        ("hubspot/deals", "hubspot_deals"),
        ("hubspot/companies", "hubspot_deals"),
        ("hubspot/contacts", "hubspot_deals"),
        ("hubspot_deals", "partner_central_opportunities"),
        ("partner_central/opportunities", "partner_central_opportunities"),
        ("partner_central/solutions", "partner_central_solutions"),
        ("hubspot_deals", "sync_plan"),
        ("partner_central_opportunities", "sync_plan"),
        ("partner_central_solutions", "sync_plan"),
        ("sync_plan", "opportunity_creates"),
        ("sync_plan", "opportunity_updates"),
        ("sync_plan", "opportunity_imports"),
        ("partner_central_opportunities", "opportunity_imports"),
        ("opportunity_creates", "hubspot_deal_writes"),
        ("opportunity_updates", "hubspot_deal_writes"),
    } <= edges, sorted(edges)


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (CI: apt-get install -y chromium)"
)
def test_asset_graph_page_shows_the_reconcile_assets(
    ui: tuple[DevServer, Seeded], backfill: Backfill, tmp_path: Path
) -> None:
    server, _ = ui
    shot = tmp_path / "asset-graph.png"
    dom = chromium(server.url + GRAPH_PATH)
    missing = [name for name in RECONCILE_ASSETS if f">{name}<" not in dom]
    missing += [label for label in EXTERNAL_LABELS if f">{label}<" not in dom]
    assert not missing, f"asset graph page lacks {missing}"
    chromium(server.url + GRAPH_PATH, screenshot=shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_backfill_through_graphql_completes_and_creates_opportunities(
    ui: tuple[DevServer, Seeded], backfill: Backfill
) -> None:
    server, seeded = ui
    backfill_id, days, expected = backfill.id, backfill.days, backfill.expected

    def finished() -> dict[str, Any] | None:
        data = server.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        assert data["__typename"] == "PartitionBackfill", data
        return data if data["status"] in DONE else None

    result = wait_for("the backfill to complete", finished, BACKFILL_TIMEOUT, interval=2.0)
    assert result["status"] == "COMPLETED_SUCCESS", (result, server.log_tail())
    assert result["isAssetBackfill"]
    assert sorted(result["partitionNames"]) == days
    assert {tuple(a["path"]) for a in result["assetSelection"]} == {(n,) for n in RECONCILE_ASSETS}
    runs = result["runs"]
    assert runs and all(r["status"] == "SUCCESS" for r in runs), runs
    # The assets' single-run backfill policy: one run over the whole range of days.
    assert len(runs) == 1
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert tags["dagster/backfill"] == backfill_id
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        days[0],
        days[-1],
    )
    opportunities = seeded.opportunities()
    assert len(opportunities) == len(expected)
