"""A portal's required-property refusal, read from HubSpot's error body, named in the reason, and found
again in recorded reasons (what `hspc doctor` lists)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.hubspot.errors import error_from_body
from hspc_pipelines.hubspot.portal_rules import CONDITIONAL, ON_CREATE, refusal_from, rules_in

# HubSpot's two refusal shapes (developer changelog, write validation enforcement from 2026-09).
CONDITIONAL_BODY = {
    "status": "error",
    "category": "VALIDATION_ERROR",
    "message": "The property values provided are invalid",
    "errors": [
        {
            "code": CONDITIONAL,
            "message": "closedate is required because of a conditional property rule based on [dealstage]",
            "context": {"propertyName": ["closedate"]},
        }
    ],
}
ON_CREATE_BODY = {
    "status": "error",
    "category": "VALIDATION_ERROR",
    "message": "The property values provided are invalid",
    "errors": [
        {
            "code": ON_CREATE,
            "message": "A value for hs_priority must be provided",
            "context": {"propertyName": ["hs_priority"]},
        }
    ],
}
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True)


def test_a_refusal_names_the_property_and_the_rule_in_the_error():
    error = error_from_body(
        400, CONDITIONAL_BODY, method="POST", path="/crm/objects/2026-09/deals", token="pat-na1-0123456789"
    )
    assert error.rule is not None and error.rule.properties == ("closedate",)
    text = str(error)
    assert "closedate" in text and CONDITIONAL in text and "based on [dealstage]" in text


def test_other_validation_errors_are_not_rule_refusals():
    bad_value = {
        "category": "VALIDATION_ERROR",
        "message": "Property values were not valid",
        "errors": [{"code": "INVALID_OPTION", "message": "x", "context": {"propertyName": ["dealstage"]}}],
    }
    assert refusal_from(bad_value) is None
    assert refusal_from({**ON_CREATE_BODY, "category": "OBJECT_NOT_FOUND"}) is None
    assert refusal_from(None) is None


@given(st.lists(st.tuples(st.sampled_from([CONDITIONAL, ON_CREATE]), NAMES), min_size=1, max_size=5))
def test_every_rule_hit_is_found_again_in_the_recorded_reason(hits):
    body = {
        "category": "VALIDATION_ERROR",
        "errors": [
            {"code": code, "message": f"{name} is required", "context": {"propertyName": [name]}}
            for code, name in hits
        ],
    }
    refusal = refusal_from(body)
    assert refusal is not None
    found = rules_in([f"deal not created: HTTP 400 VALIDATION_ERROR: {refusal.describe()}"])
    expected: dict[tuple[str, str], int] = {}
    for hit in hits:
        expected[hit] = expected.get(hit, 0) + 1
    assert found == expected


def test_a_token_echoed_in_a_rules_text_never_reaches_the_message():
    token = "pat-na1-secret-0123456789"
    body = {
        "category": "VALIDATION_ERROR",
        "errors": [
            {
                "code": ON_CREATE,
                "message": f"A value for x must be provided ({token})",
                "context": {"propertyName": ["x"]},
            }
        ],
    }
    error = error_from_body(400, body, method="POST", path="/crm/objects/2026-09/deals", token=token)
    assert error.rule is not None and token not in str(error) and "***" in str(error)
