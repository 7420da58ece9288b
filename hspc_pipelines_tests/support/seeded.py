"""The emulator stack with seeded deals, and the questions the production tests ask of the seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.emulators.seed import SeedData
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines_tests.support.partner_central import list_opportunities, partner_central_client


@dataclass
class Seeded:
    stack: EmulatorStack
    data: SeedData

    @property
    def today(self) -> str:
        return dt.datetime.now(dt.UTC).date().isoformat()

    def cosell_ids_modified(self, first: str, last: str) -> set[str]:
        """Co-sell deals whose last-modified day is in [first, last] (the window a run reconciles)."""
        cosell = set(self.data.cosell_deal_ids)
        return {
            d["id"]
            for d in self.data.deals
            if d["id"] in cosell and first <= d["properties"]["hs_lastmodifieddate"][:10] <= last
        }

    def opportunities(self) -> list[dict[str, Any]]:
        return list_opportunities(partner_central_client(self.stack))
