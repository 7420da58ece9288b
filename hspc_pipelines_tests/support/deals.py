"""A deal, its company and contacts, and the opportunity Partner Central holds: good examples that a
test changes one field of."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hspc_pipelines.mapping import DealBundle


def good_deal(**overrides: Any) -> dict[str, str | None]:
    deal: dict[str, str | None] = {
        "dealname": "Acme data platform #AWS",
        "dealstage": "qualifiedtobuy",
        "pipeline": "default",
        "amount": "12000",
        "closedate": "2099-12-31T00:00:00Z",
        "description": "Acme needs to move its analytics warehouse to AWS this year.",
        "aws_delivery_models": "SaaS or PaaS",
        "aws_primary_needs": "Co-Sell - Technical Consultation",
        "aws_use_case": "Migration/Database Migration",
    }
    deal.update(overrides)
    return deal


def good_company(**overrides: Any) -> dict[str, str | None]:
    company: dict[str, str | None] = {
        "name": "Acme Inc",
        "domain": "acme.com",
        "website": "www.acme.com",
        "industry": "COMPUTER_SOFTWARE",
        "country": "United States",
        "state": "CA",
        "city": "San Francisco",
        "zip": "94105",
        "hs_object_id": "900",
    }
    company.update(overrides)
    return company


def bundle(
    deal: dict[str, Any] | None = None,
    company: dict[str, Any] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    deal_id: str = "123",
) -> DealBundle:
    return DealBundle(
        deal_id,
        deal if deal is not None else good_deal(),
        company if company is not None else good_company(),
        contacts
        if contacts is not None
        else [
            {
                "email": "Jane@Acme.com",
                "firstname": "Jane",
                "lastname": "Doe",
                "phone": "(415) 555-0123",
                "jobtitle": "CTO",
            }
        ],
    )


def current_opportunity(**lifecycle: Any) -> dict[str, Any]:
    return {
        "Catalog": "AWS",
        "Id": "O1234567",
        "Arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/opportunity/O1234567",
        "CreatedDate": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "LastModifiedDate": dt.datetime(2025, 2, 1, 12, 0, tzinfo=dt.UTC),
        "PartnerOpportunityIdentifier": "HUBSPOT-123",
        "Origin": "Partner Referral",
        "OpportunityType": "Net New Business",
        "NationalSecurity": "No",
        "RelatedEntityIdentifiers": {"Solutions": ["S-0000001"]},
        "OpportunityTeam": [{"Email": "rep@partner.com", "FirstName": "Pat"}],
        "Customer": {
            "Account": {"CompanyName": "Old name", "Duns": "123456789", "AwsAccountId": "111122223333"},
            "Contacts": [],
        },
        "Project": {
            "Title": "Old title",
            "SalesActivities": ["Conducted POC / Demo"],
            "AdditionalComments": "kept",
        },
        "LifeCycle": {
            "Stage": "Prospect",
            "ReviewStatus": "Pending Submission",
            "ReviewComments": "x",
            "NextStepsHistory": [{"Value": "a", "Time": dt.datetime(2025, 1, 2, tzinfo=dt.UTC)}],
            "NextSteps": "call",
            **lifecycle,
        },
    }
