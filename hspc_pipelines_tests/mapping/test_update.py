from __future__ import annotations

import dataclasses
import datetime as dt

from botocore.validate import ParamValidator

from hspc_pipelines.cosell.submission.rules import validate_for_submission
from hspc_pipelines.mapping import (
    MappingConfig,
    build_create_request,
    build_update_request,
    hubspot_owned_view,
    model,
    opportunity_to_deal_properties,
    opportunity_to_new_deal,
)
from hspc_pipelines_tests.support.deals import bundle, current_opportunity, good_deal


def test_update_projects_current_record_and_replaces_owned_fields(config: MappingConfig) -> None:
    current = current_opportunity()
    result = build_update_request(bundle(), current, config, "AWS")
    assert result.errors == [] and result.request is not None
    req = result.request
    assert not ParamValidator().validate(req, model.input_shape("UpdateOpportunity")).has_errors()
    assert req["Identifier"] == "O1234567" and req["Catalog"] == "AWS"
    assert req["LastModifiedDate"] == current["LastModifiedDate"]
    for dropped in ("Id", "Arn", "CreatedDate", "RelatedEntityIdentifiers", "OpportunityTeam"):
        assert dropped not in req
    for read_only in ("ReviewStatus", "ReviewComments", "NextStepsHistory"):
        assert read_only not in req["LifeCycle"]
    assert req["LifeCycle"]["NextSteps"] == "call"  # not HubSpot's: kept
    assert req["Project"]["SalesActivities"] == ["Conducted POC / Demo"]
    assert req["Customer"]["Account"]["Duns"] == "123456789"
    assert req["Customer"]["Account"]["CompanyName"] == "Acme Inc"
    assert req["Project"]["Title"] == "Acme data platform"
    assert req["LifeCycle"]["Stage"] == "Qualified"


def test_update_view_equals_create_view(config: MappingConfig) -> None:
    create = build_create_request(bundle(), config, "AWS").request
    update = build_update_request(bundle(), current_opportunity(), config, "AWS").request
    assert create and update and hubspot_owned_view(create, config) == hubspot_owned_view(update, config)


def test_title_frozen_after_submission(config: MappingConfig) -> None:
    result = build_update_request(bundle(), current_opportunity(ReviewStatus="Approved"), config, "AWS")
    assert result.request and result.request["Project"]["Title"] == "Old title"
    assert any(w.startswith("title_frozen") for w in result.warnings)


def test_cleared_owned_field_is_removed_and_non_owned_kept(config: MappingConfig) -> None:
    current = current_opportunity()
    current["Project"]["CustomerBusinessProblem"] = "An old problem statement long enough."
    result = build_update_request(bundle(good_deal(description=None)), current, config, "AWS")
    assert result.request and "CustomerBusinessProblem" not in result.request["Project"]
    pc_owns = dataclasses.replace(config, ownership={**config.ownership, "problem": "partner_central"})
    result = build_update_request(bundle(good_deal(description="x")), current, pc_owns, "AWS")
    assert result.errors == []  # a bad value in a field HubSpot does not own does not block
    assert (
        result.request
        and result.request["Project"]["CustomerBusinessProblem"]
        == current["Project"]["CustomerBusinessProblem"]
    )


def test_update_requires_id_and_last_modified(config: MappingConfig) -> None:
    current = current_opportunity()
    del current["LastModifiedDate"]
    current["Id"] = "bogus"
    result = build_update_request(bundle(), current, config, "AWS")
    assert result.request is None and {"Id", "LastModifiedDate"} <= {e.field for e in result.errors}


def test_view_normalises(config: MappingConfig) -> None:
    a = {
        "Project": {
            "Title": " T ",
            "DeliveryModels": ["Resell", "SaaS or PaaS"],
            "CustomerBusinessProblem": "",
            "ExpectedCustomerSpend": [
                {"Amount": "100.50", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
            ],
        },
        "LifeCycle": {"TargetCloseDate": "2030-01-02"},
    }
    b = {
        "Project": {
            "Title": "T",
            "DeliveryModels": ["SaaS or PaaS", "Resell"],
            "ExpectedCustomerSpend": [
                {"Amount": "100.5", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
            ],
        },
        "LifeCycle": {"TargetCloseDate": dt.datetime(2030, 1, 2, tzinfo=dt.UTC)},
        "PrimaryNeedsFromAws": [],
    }
    assert hubspot_owned_view(a, config) == hubspot_owned_view(b, config)
    assert hubspot_owned_view(a, config)["Project.Title"] == "T"
    assert hubspot_owned_view({}, config)["Customer.Account.CompanyName"] is None


def test_pc_owned_properties_and_summary(config: MappingConfig) -> None:
    opp = current_opportunity(ReviewStatus="Action Required", ReviewStatusReason="Missing info")
    summary = {
        "Insights": {"EngagementScore": "High", "NextBestActions": "Call the customer"},
        "OpportunityTeam": [
            {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@amazon.com", "BusinessTitle": "AWSSalesRep"}
        ],
        "InvolvementType": "Co-Sell",
        "Visibility": "Full",
    }
    props = opportunity_to_deal_properties(opp, summary, config, "default")
    assert props["aws_opportunity_id"] == "O1234567" and props["aws_review_status"] == "Action Required"
    assert props["aws_review_comments"] == "Missing info\nx"
    assert props["aws_engagement_score"] == "High" and props["aws_seller_name"] == "Ann Lee <ann@amazon.com>"
    assert "dealstage" not in props and "closedate" not in props
    assert "aws_engagement_score" not in opportunity_to_deal_properties(opp, None, config, None)
    pc_stage = dataclasses.replace(config, ownership={**config.ownership, "stage": "partner_central"})
    assert (
        opportunity_to_deal_properties(opp, None, pc_stage, "default")["dealstage"] == "appointmentscheduled"
    )


def test_new_deal_from_invitation(config: MappingConfig) -> None:
    opp = build_create_request(bundle(), config, "AWS").request
    assert opp
    new = opportunity_to_new_deal({**opp, "Id": "O99"}, config, "engi-0000000000001")
    assert new.deal["dealname"] == "Acme data platform #AWS"
    assert new.deal["dealstage"] == "qualifiedtobuy" and new.deal["closedate"] == "2099-12-31T00:00:00Z"
    assert new.deal["aws_opportunity_id"] == "O99" and new.deal["aws_invitation_id"] == "engi-0000000000001"
    assert new.company["industry"] == "COMPUTER_SOFTWARE" and new.company["country"] == "United States"
    assert new.company["domain"] == "acme.com"
    assert new.contacts[0]["email"] == "jane@acme.com"


def test_submission_requirements() -> None:
    today = dt.date(2025, 6, 1)
    assert {e.field for e in validate_for_submission({}, today)} >= {
        "Customer.Account.CompanyName",
        "Customer.Account.Industry",
        "Customer.Account.WebsiteUrl",
        "Customer.Account.Address.CountryCode",
        "Project.Title",
        "Project.CustomerBusinessProblem",
        "Project.DeliveryModels",
        "Project.ExpectedCustomerSpend",
        "LifeCycle.TargetCloseDate",
        "PrimaryNeedsFromAws",
        "Project.CustomerUseCase",
    }
    opp = build_create_request(bundle(), MappingConfig.default(), "AWS").request
    assert opp and validate_for_submission(opp, today) == []
    opp["LifeCycle"]["TargetCloseDate"] = "2025-05-01"
    del opp["Customer"]["Account"]["Address"]["PostalCode"]
    fields = {e.field for e in validate_for_submission(opp, today)}
    assert fields == {"LifeCycle.TargetCloseDate", "Customer.Account.Address.PostalCode"}
    assert validate_for_submission("junk", today)  # type: ignore[arg-type]
