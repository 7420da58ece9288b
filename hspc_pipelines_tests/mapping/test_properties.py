"""Generated deals: every one maps to a request botocore accepts or to field errors; round trips converge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hspc_pipelines.mapping import (
    DealBundle,
    MappingConfig,
    build_create_request,
    build_update_request,
    hubspot_owned_view,
    model,
    opportunity_to_new_deal,
    validate_for_submission,
)
from hspc_pipelines.mapping.choices import USE_CASES
from hspc_pipelines.mapping.config import DEFAULT_STAGE_MAP
from hspc_pipelines.mapping.guard import INTERNAL
from hspc_pipelines.mapping.industries import hubspot_industries

CONFIG = MappingConfig.default()
TCV = MappingConfig(
    amount_mode="total_contract", contract_term_months=12, primary_needs_default=("Co-Sell - Deal Support",)
)
SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))

junk_text = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=40),
    st.text(min_size=1, max_size=20).map(lambda t: (t + " ") * 150),
    st.just("x" * 200_000),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.integers()),
)


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, values, values, junk_text)


industries = st.sampled_from(sorted(hubspot_industries()) + sorted(hubspot_industries().values()))
names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)
_chars = st.characters(blacklist_categories=("Cs",))
problems = st.one_of(  # long values built by repetition: generating 2,000 random characters is slow
    st.text(alphabet=_chars, min_size=20, max_size=200),
    st.text(alphabet=_chars, min_size=3, max_size=25).map(lambda t: (t + " ") * 100),
)
amounts = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False).map(str)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))
close_dates = st.one_of(
    dates.map(lambda d: f"{d.isoformat()}T00:00:00Z"),
    dates.map(str),
    dates.map(lambda d: str(int(dt.datetime.combine(d, dt.time(), dt.UTC).timestamp() * 1000))),
)
multi = st.lists(st.sampled_from(model.DELIVERY_MODELS), max_size=3).map("; ".join)
needs = st.lists(st.sampled_from(model.PRIMARY_NEEDS), max_size=3).map(", ".join)
countries = st.sampled_from(
    ["US", "USA", "United Kingdom", "UK", "Germany", "DEU", "fr", "South Korea", "Japan"]
)
emails = st.from_regex(r"[a-zA-Z0-9]{1,10}@[a-z]{1,8}\.(com|org|io)", fullmatch=True)
phones = st.sampled_from(["+1 415 555 0123", "(415) 555-0199", "030 1234567", "+44 20 7946 0958", "abc", "1"])

contact = st.fixed_dictionaries(
    {
        "email": maybe(emails),
        "firstname": maybe(names),
        "lastname": maybe(names),
        "jobtitle": maybe(names),
        "phone": maybe(phones),
    }
)
deal_props = st.fixed_dictionaries(
    {
        "dealname": maybe(names.map(lambda n: f"{n} #AWS")),
        "dealstage": maybe(st.sampled_from(sorted(DEFAULT_STAGE_MAP))),
        "pipeline": st.one_of(st.none(), st.just("default"), st.just("nope")),
        "amount": maybe(amounts),
        "closedate": maybe(close_dates),
        "description": maybe(problems),
        "deal_currency_code": maybe(st.sampled_from(["USD", "eur", "GBP", "XXX"])),
        "aws_delivery_models": maybe(multi),
        "aws_primary_needs": maybe(needs),
        "aws_use_case": maybe(st.sampled_from(USE_CASES)),
        "aws_industry": st.one_of(st.none(), st.just("Gaming"), st.just("Bogus")),
        "aws_expected_spend": st.one_of(st.none(), amounts),
    }
)
company_props = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "name": maybe(names.map(lambda n: n[:120])),
            "industry": maybe(industries),
            "country": maybe(countries),
            "state": maybe(st.sampled_from(["CA", "New York", "Bavaria", "Ontario"])),
            "city": maybe(names),
            "zip": maybe(st.from_regex(r"[0-9]{5}", fullmatch=True)),
            "website": maybe(
                st.sampled_from(["acme.com", "http://www.Example.org/x", "not a url", "https://ok.io/"])
            ),
            "domain": maybe(st.just("acme.com")),
        }
    ),
)
bundles = st.builds(
    DealBundle,
    deal_id=st.one_of(st.from_regex(r"[0-9]{1,12}", fullmatch=True), junk_text),
    deal=st.one_of(deal_props, junk_text),
    company=company_props,
    contacts=st.one_of(st.lists(contact, max_size=14), junk_text),
)


def _assert_valid_or_errors(result: Any, operation: str) -> None:
    assert all(e.field != INTERNAL for e in result.errors), result.errors
    if result.request is None:
        assert result.errors, "no request and no errors"
        for err in result.errors:
            assert err.field and err.message and str(err)
        return
    assert result.errors == []
    report = ParamValidator().validate(result.request, model.input_shape(operation))
    assert not report.has_errors(), report.generate_report()
    assert model.check_request(result.request, operation) == []


@SETTINGS
@given(st.deferred(lambda: st.one_of(valid_bundles, bundles)), st.sampled_from([CONFIG, TCV]))
def test_every_deal_gives_a_valid_create_request_or_errors(bundle: DealBundle, config: MappingConfig) -> None:
    _assert_valid_or_errors(build_create_request(bundle, config, "AWS"), "CreateOpportunity")


current_opportunities = st.fixed_dictionaries(
    {
        "Id": st.from_regex(r"O[0-9]{1,10}", fullmatch=True),
        "Catalog": st.just("AWS"),
        "LastModifiedDate": st.datetimes(timezones=st.just(dt.UTC)),
        "Arn": st.text(max_size=20),
        "LifeCycle": st.fixed_dictionaries(
            {"ReviewStatus": st.sampled_from(model.REVIEW_STATUSES), "NextSteps": st.text(max_size=50)}
        ),
        "Project": st.fixed_dictionaries(
            {
                "Title": st.text(min_size=1, max_size=50),
                "AdditionalComments": st.text(min_size=1, max_size=50),
            }
        ),
        "Customer": st.fixed_dictionaries(
            {
                "Account": st.fixed_dictionaries(
                    {"CompanyName": st.text(max_size=50), "Duns": st.just("123456789")}
                )
            }
        ),
    }
)


@SETTINGS
@given(st.deferred(lambda: st.one_of(valid_bundles, bundles)), current_opportunities)
def test_every_deal_gives_a_valid_update_request_or_errors(
    bundle: DealBundle, current: dict[str, Any]
) -> None:
    result = build_update_request(bundle, current, CONFIG, "AWS")
    _assert_valid_or_errors(result, "UpdateOpportunity")
    if result.request is not None:
        assert result.request["Identifier"] == current["Id"]
        assert result.request["LastModifiedDate"] == current["LastModifiedDate"]


clean_names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300)
clean_contact = st.fixed_dictionaries(
    {
        "email": st.one_of(st.none(), emails),
        "firstname": st.one_of(st.none(), clean_names),
        "lastname": st.one_of(st.none(), clean_names),
        "jobtitle": st.one_of(st.none(), clean_names),
        "phone": st.one_of(st.none(), phones),
    }
)
valid_bundles = st.builds(
    DealBundle,
    deal_id=st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    deal=st.fixed_dictionaries(
        {
            "dealname": clean_names.map(lambda n: f"#AWS {n}"),
            "dealstage": st.sampled_from(sorted(DEFAULT_STAGE_MAP)),
            "pipeline": st.just("default"),
            "amount": st.one_of(st.none(), amounts),
            "closedate": close_dates,
            "description": st.one_of(st.none(), problems),
            "deal_currency_code": st.sampled_from([None, "USD", "EUR"]),
            "aws_delivery_models": multi,
            "aws_primary_needs": needs,
            "aws_use_case": st.one_of(st.none(), st.sampled_from(USE_CASES)),
        }
    ),
    company=st.fixed_dictionaries(
        {
            "name": clean_names.map(lambda n: n[:120]),
            "industry": st.one_of(st.none(), industries),
            "country": countries,
            "state": st.sampled_from(["CA", "New York"]),
            "city": st.one_of(st.none(), clean_names),
            "zip": st.from_regex(r"[0-9]{5}", fullmatch=True),
            "website": st.sampled_from(["acme.com", "https://ok.io/"]),
        }
    ),
    contacts=st.lists(clean_contact, max_size=12),
)


@SETTINGS
@given(valid_bundles, st.sampled_from([CONFIG, TCV]))
def test_round_trip_reaches_a_fixed_point(bundle: DealBundle, config: MappingConfig) -> None:
    first = build_create_request(bundle, config, "AWS")
    if first.request is None:  # e.g. a name made only of whitespace: nothing to round-trip
        assert first.errors
        return
    _assert_valid_or_errors(first, "CreateOpportunity")
    new = opportunity_to_new_deal(first.request, config, None)
    again = build_create_request(
        DealBundle(bundle.deal_id, new.deal, new.company, new.contacts), config, "AWS"
    )
    assert again.errors == [], again.errors
    assert again.request is not None
    assert hubspot_owned_view(again.request, config) == hubspot_owned_view(first.request, config)
    third = opportunity_to_new_deal(again.request, config, None)
    assert third.deal == new.deal and third.company == new.company


@settings(max_examples=300, deadline=None)
@given(st.one_of(junk_text, st.dictionaries(st.text(max_size=10), junk_text, max_size=5)))
def test_submission_check_never_raises(opportunity: Any) -> None:
    result = validate_for_submission(opportunity)
    assert isinstance(result, list) and result
