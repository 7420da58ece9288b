"""The seed's Lambda handlers, done faithfully, as the baseline the product is compared with.

`seeds/000_c4ed387287809f1c.txt` (hubspot_to_partner_central/handler.py and hubspot_client.py) syncs
one deal at a time: GET the deal, read its associations (one batch-read call per deal and object type,
with a single input), GET the company, GET each contact, GetOpportunity when the deal is linked, then
CreateOpportunity or UpdateOpportunity, then PATCH the deal with the result. A sweep over a date range
finds the deals with the search endpoint first. Plain `requests` and boto3, against the same emulators.

Two deliberate departures, neither changes the call count: the seed's association read is the v3
`/crm/v3/associations/.../batch/read`, which the emulator (like HubSpot today) only serves as v4
`/crm/v4/associations/.../batch/read`; and the request bodies come from the product's mapping, so that
both systems send the same, valid records (the call pattern is what is compared, not the mapping).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from botocore.config import Config

from hspc_pipelines.mapping import DealBundle, build_create_request, build_update_request
from hspc_pipelines.mapping.config import load_mapping_config
from hspc_pipelines.mapping.properties import COMPANY_PROPERTIES, CONTACT_PROPERTIES, DEAL_PROPERTIES
from hspc_pipelines.partner_central.records import with_timestamps
from hspc_pipelines.settings import load_settings

SEARCH_PAGE = 100  # the seed's search requests ask 100 a page
WRITE_BACK_PROPERTIES = (
    {"name": "aws_opportunity_id", "label": "AWS Opportunity ID", "type": "string", "fieldType": "text"},
    {
        "name": "aws_sync_status",
        "label": "AWS Sync Status",
        "type": "enumeration",
        "fieldType": "select",
        "options": [{"label": s, "value": s} for s in ("synced", "invalid", "failed", "blocked", "pending")],
    },
)


@dataclass
class BaselineResult:
    deals: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class LambdaBaseline:
    """Per-deal sync as the seed's handlers do it."""

    def __init__(self, env: Mapping[str, str], catalog: str = "AWS") -> None:
        self.base = env["HUBSPOT_BASE_URL"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {env['HUBSPOT_ACCESS_TOKEN']}"
        self.pc = boto3.client(
            "partnercentral-selling",
            region_name="us-east-1",
            endpoint_url=env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )
        self.catalog = catalog
        self.config = load_mapping_config(load_settings().mapping_config)

    # -- HubSpot, one object per call ---------------------------------------------------------------
    def _hs(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.session.request(method, self.base + path, timeout=30, **kw)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def ensure_properties(self) -> None:
        """The seed's one-off setup (POST /crm/v3/properties/deals); not part of a sync's count."""
        existing = {p["name"] for p in self._hs("GET", "/crm/v3/properties/deals")["results"]}
        for definition in WRITE_BACK_PROPERTIES:
            if definition["name"] not in existing:
                self._hs(
                    "POST", "/crm/v3/properties/deals", json={**definition, "groupName": "dealinformation"}
                )

    def search_deal_ids(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        ids: list[str] = []
        after: str | None = None
        for _ in range(10_000 // SEARCH_PAGE + 1):  # search stops at 10,000 results
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": _ms(start)},
                            {"propertyName": "hs_lastmodifieddate", "operator": "LT", "value": _ms(end)},
                        ]
                    }
                ],
                "properties": ["dealname"],
                "limit": SEARCH_PAGE,
                **({"after": after} if after else {}),
            }
            page = self._hs("POST", "/crm/v3/objects/deals/search", json=body)
            ids += [str(r["id"]) for r in page["results"]]
            after = (page.get("paging") or {}).get("next", {}).get("after")
            if not after:
                break
        return ids

    def _association_ids(self, deal_id: str, to_type: str) -> list[str]:
        body = {"inputs": [{"id": deal_id}]}
        out = self._hs("POST", f"/crm/v4/associations/deals/{to_type}/batch/read", json=body)
        return [str(t["toObjectId"]) for r in out.get("results", []) for t in r.get("to", [])]

    def _get(self, object_type: str, object_id: str, properties: tuple[str, ...]) -> dict[str, Any]:
        obj = self._hs(
            "GET", f"/crm/v3/objects/{object_type}/{object_id}", params={"properties": ",".join(properties)}
        )
        return dict(obj["properties"])

    # -- the handler --------------------------------------------------------------------------------
    def sync_deal(self, deal_id: str, result: BaselineResult) -> None:
        deal = self._get("deals", deal_id, DEAL_PROPERTIES)
        company_ids = self._association_ids(deal_id, "companies")
        contact_ids = self._association_ids(deal_id, "contacts")
        company = self._get("companies", company_ids[0], COMPANY_PROPERTIES) if company_ids else None
        if company is not None:
            company["hs_object_id"] = company_ids[0]
        contacts = [self._get("contacts", c, CONTACT_PROPERTIES) for c in contact_ids]
        bundle = DealBundle(deal_id=deal_id, deal=deal, company=company, contacts=contacts)
        result.deals += 1
        try:
            opp_id = deal.get("aws_opportunity_id")
            if opp_id:
                response = self.pc.get_opportunity(Catalog=self.catalog, Identifier=opp_id)
                current = {k: v for k, v in response.items() if k != "ResponseMetadata"}
                update = build_update_request(bundle, current, self.config, self.catalog).request
                if update is None:
                    result.errors["invalid"] += 1
                    return
                self.pc.update_opportunity(**with_timestamps(update))
                result.updated += 1
            else:
                request = build_create_request(bundle, self.config, self.catalog).request
                if request is None:
                    result.errors["invalid"] += 1
                    return
                opp_id = self.pc.create_opportunity(**with_timestamps(request))["Id"]
                result.created += 1
        except self.pc.exceptions.ClientError as exc:  # one bad deal does not stop the sweep
            result.failed += 1
            result.errors[exc.response["Error"]["Code"]] += 1
            return
        self._hs(
            "PATCH",
            f"/crm/v3/objects/deals/{deal_id}",
            json={"properties": {"aws_opportunity_id": opp_id, "aws_sync_status": "synced"}},
        )

    def sweep(self, start: dt.datetime, end: dt.datetime) -> BaselineResult:
        result = BaselineResult()
        for deal_id in self.search_deal_ids(start, end):
            self.sync_deal(deal_id, result)
        return result


def _ms(when: dt.datetime) -> str:
    return str(int(when.timestamp() * 1000))
