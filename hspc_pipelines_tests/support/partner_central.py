"""Partner Central as a person would look at it: a boto3 client on the stack's emulator, all opportunities,
and a CreateOpportunity request it accepts."""

from __future__ import annotations

import uuid
from typing import Any

import boto3

from hspc_pipelines.emulators.stack import EmulatorStack


def partner_central_client(stack: EmulatorStack) -> Any:
    return boto3.client(
        "partnercentral-selling",
        region_name="us-east-1",
        endpoint_url=stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def list_opportunities(client: Any, catalog: str = "AWS") -> list[dict[str, Any]]:
    """Every opportunity summary, page by page."""
    out: list[dict[str, Any]] = []
    token = None
    while True:
        kw: dict[str, Any] = {
            "Catalog": catalog,
            "MaxResults": 100,
            **({"NextToken": token} if token else {}),
        }
        page = client.list_opportunities(**kw)
        out += [dict(o) for o in page["OpportunitySummaries"]]
        token = page.get("NextToken")
        if not token:
            return out


def create_request(
    token: str | None = None, catalog: str = "AWS", title: str = "Acme data platform"
) -> dict[str, Any]:
    """A CreateOpportunity request Partner Central accepts (a fresh client token unless given)."""
    return {
        "Catalog": catalog,
        "ClientToken": token or str(uuid.uuid4()),
        "Origin": "Partner Referral",
        "OpportunityType": "Net New Business",
        "NationalSecurity": "No",
        "PartnerOpportunityIdentifier": "HUBSPOT-42",
        "PrimaryNeedsFromAws": ["Co-Sell - Architectural Validation"],
        "Customer": {
            "Account": {
                "CompanyName": "Acme Corp",
                "Industry": "Software and Internet",
                "WebsiteUrl": "https://acme.example.com",
                "Address": {"CountryCode": "US", "City": "Seattle", "PostalCode": "98101"},
            },
            "Contacts": [
                {
                    "FirstName": "Jo",
                    "LastName": "Doe",
                    "Email": "jo@acme.example.com",
                    "BusinessTitle": "CTO",
                    "Phone": "+14155550100",
                }
            ],
        },
        "LifeCycle": {"Stage": "Qualified", "TargetCloseDate": "2031-06-30", "NextSteps": "Kick-off"},
        "Project": {
            "Title": title,
            "CustomerBusinessProblem": "Acme needs to move its analytics estate to AWS this year.",
            "DeliveryModels": ["SaaS or PaaS"],
            "ExpectedCustomerSpend": [
                {"Amount": "25000", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
            ],
        },
    }


def set_review(stack: EmulatorStack, opportunity_id: str, status: str, comments: str | None = None) -> None:
    """AWS's review moves the opportunity to `status` (the emulator's control API)."""
    import requests

    body = {"ReviewStatus": status, **({"ReviewComments": comments} if comments else {})}
    url = (
        stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"]
        + f"/_emulator/opportunities/{opportunity_id}/review"
    )
    requests.post(url, json=body, timeout=10).raise_for_status()
