"""`python -m benchmarks.newest_cost [--deals N]`: what `conflict_policy: newest` costs the deal snapshot
(issue 15), as HubSpot call counts against the HubSpot emulator: one snapshot of N linked co-sell
deals (10% share a company, two contacts each) under `owner` and under `newest`, which also reads the
mapped properties' history (`propertiesWithHistory`) of the linked deals and their companies."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from typing import Any

from benchmarks.harness import cosell_seed
from hspc_pipelines.emulators.hubspot import start_hubspot_emulator
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.reconcile.hubspot_snapshot import fetch_deal_snapshots
from hspc_pipelines.reconcile.merge import PROPERTY_TIMESTAMPS

TOKEN = "newest-cost"


def measure(deals: int) -> dict[str, Any]:
    emulator, server = start_hubspot_emulator(access_tokens=[TOKEN])
    try:
        client = HubSpotClient(TOKEN, server.url, requests_per_10s=1_000_000, search_per_second=100_000)
        bootstrap_properties(client)
        seed = cosell_seed(deals, recent=True)
        for i, deal in enumerate(seed.deals):  # every deal linked: the pairs the merge compares
            deal["properties"]["aws_opportunity_id"] = f"O{1000 + i}"
        emulator.load_seed(seed)
        end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        start = end - dt.timedelta(days=2)
        out: dict[str, Any] = {"deals": deals}
        for policy in ("owner", "newest"):
            config = dataclasses.replace(MappingConfig.default(), conflict_policy=policy)
            client.stats.reset()
            snaps = fetch_deal_snapshots(client, config, start, end)
            calls = dict(client.stats.snapshot()["calls"])
            out[policy] = {
                "pairs": len(snaps),
                "hubspot_calls": sum(calls.values()),
                "batch_reads": {k: v for k, v in sorted(calls.items()) if k.endswith("/batch/read")},
                "with_property_stamps": sum(1 for s in snaps if PROPERTY_TIMESTAMPS in s.bundle.deal),
            }
        out["extra_calls_per_100_pairs"] = round(
            100 * (out["newest"]["hubspot_calls"] - out["owner"]["hubspot_calls"]) / max(deals, 1), 2
        )
        return out
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=1000)
    print(json.dumps(measure(parser.parse_args().deals), indent=2))


if __name__ == "__main__":
    main()
