"""Generated deals: every one maps to a request botocore accepts or to field errors; round trips converge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hspc_pipelines.cosell.submission.rules import validate_for_submission
from hspc_pipelines.mapping import (
    DealBundle,
    MappingConfig,
    build_create_request,
    build_update_request,
    hubspot_owned_view,
    model,
    opportunity_to_new_deal,
)
from hspc_pipelines.mapping.guard import INTERNAL
from hspc_pipelines_tests.support.strategies import bundles, junk_text, valid_bundles

CONFIG = MappingConfig.default()
TCV = MappingConfig(
    amount_mode="total_contract", contract_term_months=12, primary_needs_default=("Co-Sell - Deal Support",)
)
SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))


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
