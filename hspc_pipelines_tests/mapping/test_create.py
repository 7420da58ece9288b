from __future__ import annotations

import dataclasses

import pytest
from botocore.validate import ParamValidator

from hspc_pipelines.mapping import MappingConfig, build_create_request, is_cosell, model
from hspc_pipelines.mapping.contacts import normalise_phone
from hspc_pipelines_tests.support.deals import bundle, good_company, good_deal


def _fields(result: object) -> set[str]:
    return {e.field for e in result.errors}  # type: ignore[attr-defined]


def test_full_request_passes_botocore(config: MappingConfig) -> None:
    result = build_create_request(bundle(), config, "Sandbox")
    assert result.errors == [] and result.request is not None
    req = result.request
    report = ParamValidator().validate(req, model.input_shape("CreateOpportunity"))
    assert not report.has_errors(), report.generate_report()
    assert req["Catalog"] == "Sandbox"
    assert req["PartnerOpportunityIdentifier"] == "HUBSPOT-123"
    assert (req["Origin"], req["OpportunityType"], req["NationalSecurity"]) == (
        "Partner Referral",
        "Net New Business",
        "No",
    )
    assert req["Project"]["Title"] == "Acme data platform"
    assert req["LifeCycle"] == {"Stage": "Qualified", "TargetCloseDate": "2099-12-31"}
    account = req["Customer"]["Account"]
    assert account["WebsiteUrl"] == "https://www.acme.com"
    assert account["Industry"] == "Software and Internet"
    assert account["Address"] == {
        "CountryCode": "US",
        "StateOrRegion": "California",
        "City": "San Francisco",
        "PostalCode": "94105",
    }
    assert req["Customer"]["Contacts"] == [
        {
            "Email": "jane@acme.com",
            "FirstName": "Jane",
            "LastName": "Doe",
            "BusinessTitle": "CTO",
            "Phone": "+14155550123",
        }
    ]
    assert req["Project"]["ExpectedCustomerSpend"] == [
        {"Amount": "12000", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
    ]


def test_client_token_is_deterministic_and_body_bound(config: MappingConfig) -> None:
    a = build_create_request(bundle(), config, "AWS").request
    b = build_create_request(bundle(), config, "AWS").request
    c = build_create_request(bundle(good_deal(amount="13000")), config, "AWS").request
    assert a and b and c
    assert a["ClientToken"] == b["ClientToken"] != c["ClientToken"]
    assert a["ClientToken"].startswith("hspc-123-") and len(a["ClientToken"]) <= 255


def test_partner_identifier_prefix_and_length_limit(config: MappingConfig) -> None:
    other = dataclasses.replace(config, partner_opportunity_prefix="HS-")
    assert build_create_request(bundle(), other, "AWS").request["PartnerOpportunityIdentifier"] == "HS-123"  # type: ignore[index]
    result = build_create_request(bundle(deal_id="9" * 70), config, "AWS")
    assert result.request is None and "deal_id" in _fields(result)


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("#AWS Acme", "Acme"),
        ("Acme #aws", "Acme"),
        ("Acme   #Aws   migration", "Acme migration"),
        ("  Acme\tdeal\n#AWS ", "Acme deal"),
        ("#AWS Acme #AWS", "Acme"),
    ],
)
def test_title_tag_removed_and_whitespace_collapsed(name: str, title: str, config: MappingConfig) -> None:
    req = build_create_request(bundle(good_deal(dealname=name)), config, "AWS").request
    assert req is not None and req["Project"]["Title"] == title


def test_title_cut_to_255(config: MappingConfig) -> None:
    result = build_create_request(bundle(good_deal(dealname="x" * 300 + " #AWS")), config, "AWS")
    assert result.request and len(result.request["Project"]["Title"]) == 255
    assert any(w.startswith("title_truncated") for w in result.warnings)


def test_problem_too_short_is_an_error_not_padded(config: MappingConfig) -> None:
    result = build_create_request(bundle(good_deal(description="too short")), config, "AWS")
    assert result.request is None and "description" in _fields(result)


def test_problem_too_long_cut_at_word(config: MappingConfig) -> None:
    text = ("word " * 500).strip()  # 2499 characters
    result = build_create_request(bundle(good_deal(description=text)), config, "AWS")
    problem = result.request["Project"]["CustomerBusinessProblem"]  # type: ignore[index]
    assert len(problem) <= 2000 and problem.endswith("word")
    assert any(w.startswith("problem_truncated") for w in result.warnings)


def test_website_falls_back_to_domain(config: MappingConfig) -> None:
    req = build_create_request(
        bundle(company=good_company(website=None, domain="acme.io")), config, "AWS"
    ).request
    assert req and req["Customer"]["Account"]["WebsiteUrl"] == "https://acme.io"
    req = build_create_request(bundle(company=good_company(website="http://Acme.io/")), config, "AWS").request
    assert req and req["Customer"]["Account"]["WebsiteUrl"] == "https://acme.io"


def test_spend_modes_and_currency(config: MappingConfig) -> None:
    tcv = dataclasses.replace(config, amount_mode="total_contract", contract_term_months=12)
    req = build_create_request(bundle(good_deal(amount="1000", deal_currency_code="eur")), tcv, "AWS").request
    assert req and req["Project"]["ExpectedCustomerSpend"][0] == {
        "Amount": "83.33",
        "CurrencyCode": "EUR",
        "Frequency": "Monthly",
        "TargetCompany": "AWS",
    }
    req = build_create_request(bundle(good_deal(aws_expected_spend="500.5")), tcv, "AWS").request
    assert req and req["Project"]["ExpectedCustomerSpend"][0]["Amount"] == "500.5"
    for bad in ({"amount": "-5"}, {"amount": "lots"}, {"amount": "1e40"}, {"deal_currency_code": "ZZZ"}):
        result = build_create_request(bundle(good_deal(**bad)), config, "AWS")
        assert result.request is None and result.errors, bad


def test_every_error_reported_at_once(config: MappingConfig) -> None:
    deal = good_deal(
        dealstage="nope",
        closedate="someday",
        description="short",
        aws_delivery_models="Magic;Resell",
        aws_primary_needs="Everything",
        aws_use_case="Knitting",
        deal_currency_code="XXX",
    )
    result = build_create_request(bundle(deal, good_company(country="Atlantis")), config, "AWS")
    assert result.request is None
    assert {
        "dealstage",
        "closedate",
        "description",
        "aws_delivery_models",
        "aws_primary_needs",
        "aws_use_case",
        "deal_currency_code",
        "company.country",
    } <= _fields(result)
    for err in result.errors:
        text = str(err)
        assert err.field in text and "allowed" in text


def test_multi_select_parsing(config: MappingConfig) -> None:
    deal = good_deal(
        aws_delivery_models="saas or paas, Resell;Resell",
        aws_primary_needs="Co-Sell - Deal Support; co-sell - pricing assistance",
    )
    req = build_create_request(bundle(deal), config, "AWS").request
    assert req and req["Project"]["DeliveryModels"] == ["SaaS or PaaS", "Resell"]
    assert req["PrimaryNeedsFromAws"] == ["Co-Sell - Deal Support", "Co-Sell - Pricing Assistance"]


def test_contacts_rules(config: MappingConfig) -> None:
    contacts = [{"email": None, "firstname": None, "lastname": None, "phone": "123"}]  # skipped
    contacts += [{"email": f"p{i}@x.com", "firstname": "P", "phone": "not a phone"} for i in range(12)]
    contacts.append({"email": "p0@x.com", "firstname": "dup"})
    result = build_create_request(bundle(contacts=contacts), config, "AWS")
    sent = result.request["Customer"]["Contacts"]  # type: ignore[index]
    assert len(sent) == 10 and all("Phone" not in c for c in sent)
    assert any(w.startswith("contact_phone_dropped") for w in result.warnings)
    assert any(w.startswith("contacts_limited") for w in result.warnings)


def test_phone_region_hint() -> None:
    assert normalise_phone("030 1234567", "DE") == "+49301234567"
    assert normalise_phone("+44 20 7946 0958", None) == "+442079460958"
    assert normalise_phone("12", "US") is None


def test_company_required(config: MappingConfig) -> None:
    result = build_create_request(bundle(company={}), config, "AWS")
    assert result.request is None and "company.name" in _fields(result)


def test_is_cosell(config: MappingConfig) -> None:
    assert is_cosell({"dealname": "Big deal #aws"}, config)
    assert not is_cosell({"dealname": "Big deal"}, config)
    assert not is_cosell({"dealname": "#AWSome deal"}, config)
    assert is_cosell({"dealname": "x", "aws_opportunity_id": "O1"}, config)
    rule = dataclasses.replace(config, cosell_property="cosell", cosell_pipelines=("77",))
    assert is_cosell({"cosell": "Yes"}, rule) and is_cosell({"pipeline": "77"}, rule)
    assert not is_cosell({"cosell": "no"}, rule)
    assert not is_cosell(None, config)  # type: ignore[arg-type]
