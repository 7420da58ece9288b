"""Screenshot of the reconcile asset graph in the Dagster UI, for the README (docs/asset-graph.png).

Starts the local emulator stack with seeded deals and `dagster dev` on a free loopback port (temporary
DAGSTER_HOME with the local dagster.yaml; the UI's first-visit "community" dialog turned off),
backfills the reconcile assets over the last 3 days through the GraphQL API so the graph shows
materialized partitions, then has headless Chromium (/usr/bin/chromium) capture the reconcile group's
lineage page. Everything runs on 127.0.0.1 and is stopped at the end.

    .venv/bin/python scripts/screenshot_asset_graph.py [--out docs/asset-graph.png] [--no-backfill]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hspc_pipelines.emulators.seed import anchor_now, generate_seed  # noqa: E402
from hspc_pipelines.emulators.stack import EmulatorStack  # noqa: E402
from hspc_pipelines_tests.support.dagster_dev import DevServer  # noqa: E402
from hspc_pipelines_tests.support.dagster_ui import (  # noqa: E402
    BACKFILL,
    CHROMIUM,
    DONE,
    GRAPH_PATH,
    LAUNCH_BACKFILL,
    chromium,
)
from hspc_pipelines_tests.support.environment import product_env  # noqa: E402
from hspc_pipelines_tests.support.names import RECONCILE_ASSETS  # noqa: E402
from hspc_pipelines_tests.support.processes import wait_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "asset-graph.png")
    parser.add_argument("--deals", type=int, default=30)
    parser.add_argument("--no-backfill", action="store_true", help="capture the graph without running it")
    parser.add_argument("--window-size", default="1600,1000")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="hspc-screenshot-") as tmp_dir, EmulatorStack() as stack:
        tmp = Path(tmp_dir)
        stack.hubspot.load_seed(generate_seed(args.deals, seed=11, now_ms=anchor_now()))
        now = dt.datetime.now(dt.UTC)
        env = product_env(
            stack, tmp / "home", HSPC_RECONCILE_CRON=f"{now.minute} {(now.hour + 12) % 24} * * *"
        )
        nux_off = "\nnux:\n  enabled: false\n"
        with DevServer(tmp / "home", env, tmp / "dagster-dev.log", extra_instance_yaml=nux_off) as server:
            print(f"dagster dev on {server.url}")
            if not args.no_backfill:
                today = now.date()
                days = [(today - dt.timedelta(days=i)).isoformat() for i in (2, 1, 0)]
                params = {"partitionNames": days, "assetSelection": [{"path": [n]} for n in RECONCILE_ASSETS]}
                launched = server.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
                if launched["__typename"] != "LaunchBackfillSuccess":
                    print(f"backfill not launched: {launched}", file=sys.stderr)
                    return 1
                backfill_id = launched["backfillId"]

                def done() -> dict[str, object] | None:
                    data = server.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
                    return data if data.get("status") in DONE else None

                result = wait_for("the backfill", done, 180, interval=2.0)
                print(f"backfill {backfill_id} over {days[0]}..{days[-1]}: {result['status']}")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            chromium(server.url + GRAPH_PATH, screenshot=args.out.resolve(), window=args.window_size)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
