"""The co-sell jobs against both emulators: a `CosellWorld` (the product's resources built from the
emulators' environment, its jobs run in process) and an invitation sent from Partner Central's side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg
import requests
from dagster._core.storage.defs_state.base import set_defs_state_storage

from hspc_pipelines.defs import external
from hspc_pipelines.defs.cosell import assets as cosell_assets
from hspc_pipelines.defs.cosell import jobs as cosell_jobs
from hspc_pipelines.defs.resources import build_resources
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping.properties import DEAL_PROPERTIES
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.settings import load_settings

CONTACTS = [
    {
        "Email": "Dana.Buyer@northwind.example",
        "FirstName": "Dana",
        "LastName": "Buyer",
        "BusinessTitle": "CTO",
        "Phone": "+14155550100",
    },
    {
        "Email": "lee.ops@northwind.example",
        "FirstName": "Lee",
        "LastName": "Ops",
        "BusinessTitle": "Head of Ops",
    },
]


@dataclass
class CosellWorld:
    env: dict[str, str]
    hubspot: Any  # HubSpotEmulator
    partner_central: Any  # PartnerCentralEmulator
    home: str

    def defs(self) -> dg.Definitions:
        return dg.Definitions.merge(
            external.defs(),
            cosell_assets.defs(),
            cosell_jobs.defs(),
            dg.Definitions(resources=build_resources(self.home, load_settings())),
        )

    def run(self, job: str, run_config: dict[str, Any] | None = None, raise_on_error: bool = True) -> Any:
        instance = dg.DagsterInstance.ephemeral()
        return self.job(job, instance).execute_in_process(
            instance=instance, run_config=run_config or {}, raise_on_error=raise_on_error
        )

    def job(self, name: str, instance: dg.DagsterInstance) -> dg.JobDefinition:
        """The job, resolved against `instance`'s defs-state storage: Dagster reads a process-wide
        "current" one, which an earlier test's temporary instance may have left on a deleted folder."""
        with set_defs_state_storage(instance.defs_state_storage):
            return self.defs().resolve_job_def(name)

    def hs(self) -> HubSpotClient:
        return HubSpotClient(self.env["HUBSPOT_ACCESS_TOKEN"], self.env["HUBSPOT_BASE_URL"])

    def pc(self) -> PartnerCentralClient:
        return PartnerCentralClient(self.env.get("PARTNER_CENTRAL_CATALOG", "AWS"))

    def deals(self, **filters: str) -> list[dict[str, Any]]:
        deals = list(self.hs().list_objects("deals", DEAL_PROPERTIES))
        return [d for d in deals if all(d["properties"].get(k) == v for k, v in filters.items())]

    def notes_of(self, deal_id: str) -> list[dict[str, Any]]:
        hs = self.hs()
        ids = hs.batch_read_associations("deals", "notes", [deal_id]).get(deal_id, [])
        if not ids:
            return []
        return [
            n["properties"] for n in hs.batch_read("notes", ids, ["hs_note_body", "hspc_note_key"]).results
        ]

    def pc_calls(self) -> dict[str, int]:
        return dict(self.partner_central.stats()["calls"])


def send_invitation(
    world: CosellWorld,
    country: str = "US",
    company: str = "Northwind Traders",
    website: str = "https://www.northwind.example",
    industry: str = "Retail",
) -> str:
    """An invitation the emulated AWS sends to the partner; its id."""
    body = {
        "Payload": {
            "Customer": {
                "CompanyName": company,
                "WebsiteUrl": website,
                "CountryCode": country,
                "Industry": industry,
            },
            "Project": {
                "Title": f"{company} data platform",
                "BusinessProblem": "Legacy warehouse cannot scale "
                "with seasonal demand; they want a managed analytics platform on AWS.",
                "TargetCompletionDate": "2031-03-31",
                "ExpectedCustomerSpend": [
                    {"Amount": "25000", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
                ],
            },
        },
        "InvitationMessage": "Let's co-sell Northwind",
        "CustomerContacts": CONTACTS,
    }
    url = world.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"].rstrip("/") + "/_emulator/invitations"
    response = requests.post(url, json=body, timeout=10)
    response.raise_for_status()
    return str(response.json()["Id"])
