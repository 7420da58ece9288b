"""Pure decisions of the co-sell flows: invitation rules, steps, tokens, summary notifications."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.cosell import steps
from hspc_pipelines.cosell.invitations.rules import RulesConfigError, facts_from_invitation, parse_rules
from hspc_pipelines.cosell.invitations.rules_file import load_invitation_rules
from hspc_pipelines.cosell.submission.rules import SubmitChoices, problems_by_field, submit_choices
from hspc_pipelines.cosell.summaries.rules import describe_snapshot, summary_update, team_by_role
from hspc_pipelines.mapping.vocabulary import (
    DEFAULT_INVOLVEMENT_TYPE,
    DEFAULT_VISIBILITY,
    INVOLVEMENT_TYPES,
    REQUEST_STATUS_OF,
    VISIBILITIES,
    SubmissionStatus,
    SubmitRequestStatus,
)


def invitation(country: str = "US", industry: str = "Healthcare", amount: str = "5000") -> dict:
    return {
        "Id": "engi-0000000000001",
        "Status": "PENDING",
        "PayloadType": "OpportunityInvitation",
        "SenderAwsAccountId": "123456789012",
        "Payload": {
            "OpportunityInvitation": {
                "Customer": {
                    "CountryCode": country,
                    "Industry": industry,
                    "CompanyName": "Acme",
                    "WebsiteUrl": "https://acme.example",
                },
                "Project": {
                    "Title": "Data lake",
                    "BusinessProblem": "x" * 30,
                    "TargetCompletionDate": "2030-01-01",
                    "ExpectedCustomerSpend": [
                        {
                            "Amount": amount,
                            "CurrencyCode": "USD",
                            "Frequency": "Monthly",
                            "TargetCompany": "AWS",
                        }
                    ],
                },
                "ReceiverResponsibilities": ["Services Partner"],
            }
        },
    }


RULES = {
    "rules": [
        {
            "name": "territory",
            "action": "reject",
            "reason": "Outside our territory",
            "when": {"country_not_in": ["US", "CA"]},
        },
        {
            "name": "no-gaming",
            "action": "reject",
            "reason": "No gaming customers",
            "when": {"industry_in": ["gaming"]},
        },
        {"name": "small", "action": "reject", "reason": "Too small", "when": {"max_monthly_spend": 100}},
    ]
}


def test_accept_all_by_default():
    assert parse_rules(None).decide(facts_from_invitation(invitation())).accept
    assert (
        load_invitation_rules(path="", mapping_config=None).decide(facts_from_invitation(invitation())).accept
    )


@pytest.mark.parametrize(
    ("inv", "rule", "reason"),
    [
        (invitation(country="DE"), "territory", "Outside our territory"),
        (invitation(industry="Gaming"), "no-gaming", "No gaming customers"),
        (invitation(amount="50"), "small", "Too small"),
    ],
)
def test_reject_rules_first_match_wins(inv, rule, reason):
    decision = parse_rules(RULES).decide(facts_from_invitation(inv))
    assert (decision.action, decision.rule, decision.reason) == ("reject", rule, reason)


def test_rules_pass_accepts():
    assert parse_rules(RULES).decide(facts_from_invitation(invitation())).accept


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"rules": [{"action": "reject", "reason": "x", "when": {"country_in": ["USA"]}}]},
            "rules[0].when.country_in",
        ),
        (
            {"rules": [{"action": "reject", "reason": "x", "when": {"industry_in": ["Fintech"]}}]},
            "rules[0].when.industry_in",
        ),
        ({"rules": [{"action": "reject", "when": {"country_in": ["US"]}}]}, "rules[0].reason"),
        ({"rules": [{"action": "reject", "reason": "r" * 81}]}, "rules[0].reason"),
        ({"rules": [{"action": "maybe", "reason": "x"}]}, "rules[0].action"),
        (
            {"rules": [{"action": "reject", "reason": "x", "when": {"colour": ["red"]}}]},
            "rules[0].when.colour",
        ),
        ({"default": "reject"}, "default_reason"),
        ({"rulez": []}, "rulez"),
    ],
)
def test_bad_rules_name_field_value_and_allowed(data, field):
    with pytest.raises(RulesConfigError) as err:
        parse_rules(data, frozenset({"US", "CA", "DE"}))
    assert err.value.field == field
    assert "allowed:" in str(err.value) and field in str(err.value)


def test_rules_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "invitation_rules:\n  rules:\n    - action: reject\n      reason: Not in Germany\n"
        "      when: {country_in: [de]}\n"
    )
    rules = load_invitation_rules(path=str(path))
    assert rules.decide(facts_from_invitation(invitation(country="DE"))).reason == "Not in Germany"
    with pytest.raises(RulesConfigError, match="HSPC_INVITATION_RULES"):
        load_invitation_rules(path=str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize(
    ("row", "inv", "step"),
    [
        (None, "PENDING", steps.DECIDE),
        (None, "ACCEPTED", steps.ADOPT),
        (None, "EXPIRED", steps.SKIP),
        (steps.ACCEPTING, "PENDING", steps.POLL),
        (steps.ACCEPTED, "ACCEPTED", steps.CREATE_DEAL),
        (steps.DEAL_CREATED, "ACCEPTED", steps.DONE),
        (steps.REJECTING, "PENDING", steps.REJECT),
        (steps.REJECTED, "REJECTED", steps.DONE),
        (steps.FAILED, "PENDING", steps.RETRY),
    ],
)
def test_next_invitation_step(row, inv, step):
    assert steps.next_invitation_step(row, inv) == step


def test_tokens_are_deterministic_and_bounded():
    assert steps.accept_client_token("AWS", "engi-x") == steps.accept_client_token("AWS", "engi-x")
    assert steps.accept_client_token("AWS", "engi-x", 1) != steps.accept_client_token("AWS", "engi-x")
    a = steps.submit_client_token("AWS", "O1", "Co-Sell", "Full")
    assert (
        a
        == steps.submit_client_token("AWS", "O1", "Co-Sell", "Full")
        != steps.submit_client_token("AWS", "O1", "Co-Sell", "Limited")
    )
    assert len(a) <= 255


def test_backoff_stays_within_budget():
    waits = list(steps.backoff_delays(10, 0.5, 2, 4))
    assert sum(waits) == pytest.approx(10) and max(waits) <= 4
    assert list(steps.backoff_delays(0)) == []


def test_submission_request_errors_name_field_value_allowed():
    errors = steps.submission_request_errors("CoSell", "Public")
    assert "involvement_type = 'CoSell'" in errors[0] and "Co-Sell | For Visibility Only" in errors[0]
    assert "visibility = 'Public'" in errors[1] and "Full | Limited" in errors[1]


SUMMARY = {
    "Insights": {"EngagementScore": "High", "NextBestActions": "Book a call"},
    "InvolvementType": "Co-Sell",
    "Visibility": "Full",
    "OpportunityTeam": [
        {"FirstName": "Pat", "LastName": "Dm", "Email": "pdm@amazon.com", "BusinessTitle": "PDM"},
        {"FirstName": "Sam", "LastName": "Seller", "Email": "sam@amazon.com", "BusinessTitle": "AWSSalesRep"},
    ],
    "LifeCycle": {"Stage": "Qualified"},
}
OPP = {"Id": "O123", "LifeCycle": {"ReviewStatus": "Action Required", "ReviewComments": "Add the use case"}}


def test_team_by_business_title():
    assert team_by_role(SUMMARY) == {
        "Seller": "Sam Seller <sam@amazon.com>",
        "PDM": "Pat Dm <pdm@amazon.com>",
    }


def test_summary_update_notes_each_transition_once():
    first = summary_update("1", {"aws_review_status": "Submitted"}, OPP, SUMMARY, {})
    keys = [n.key.split(":")[0] for n in first.notes]
    assert keys == ["review", "score", "seller", "team"]
    assert "Add the use case" in first.notes[0].body
    assert first.properties["aws_engagement_score"] == "High"
    assert first.properties["aws_seller_name"] == "Sam Seller <sam@amazon.com>"
    converged = {**{"aws_review_status": "Action Required"}, **first.properties}
    second = summary_update("1", converged, OPP, SUMMARY, {})
    assert second.properties == {}
    # state-based review note only (deduplicated by key when written); no transition notes
    assert [n.key for n in second.notes] == [first.notes[0].key]


def test_closed_lost_by_aws_and_missing_summary():
    lost = {**SUMMARY, "LifeCycle": {"Stage": "Closed Lost", "ClosedLostReason": "Customer Deficiency"}}
    update = summary_update("1", {}, {"Id": "O1", "LifeCycle": {"ReviewStatus": "Approved"}}, lost, {})
    assert any(n.key == "closed-lost:O1" and "Customer Deficiency" in n.body for n in update.notes)
    none = summary_update("1", {"aws_engagement_score": "High"}, {"Id": "O1", "LifeCycle": {}}, None, {})
    assert "aws_engagement_score" not in none.properties


def test_describe_snapshot():
    text = describe_snapshot(
        {
            "ResourceSnapshotTemplateName": "AWS Opportunity Summary",
            "ResourceType": "Opportunity",
            "ResourceId": "O1",
            "Payload": {
                "OpportunitySummary": {
                    "Lifecycle": {"Stage": "Qualified", "NextSteps": "Meet"},
                    "OpportunityTeam": [{"FirstName": "A", "BusinessTitle": "PSM"}],
                }
            },
        }
    )
    assert "Stage: Qualified" in text and "Next steps: Meet" in text and "PSM: A" in text


def test_domains_and_name_tag():
    assert steps.website_domain("https://www.Acme.example/x") == "acme.example"
    assert steps.deal_name_with_tag("Data lake") == "Data lake #AWS"
    assert steps.deal_name_with_tag("Data lake #aws") == "Data lake #aws"


def test_submit_choices_caller_then_deal_then_defaults():
    deal = {"aws_involvement_type": "For Visibility Only", "aws_visibility": "Limited"}
    assert submit_choices(None, None, deal) == SubmitChoices("For Visibility Only", "Limited")
    assert submit_choices("Co-Sell", "Full", deal) == SubmitChoices("Co-Sell", "Full")
    assert submit_choices(None, None, {}) == SubmitChoices(DEFAULT_INVOLVEMENT_TYPE, DEFAULT_VISIBILITY)
    assert submit_choices(None, None, {"aws_involvement_type": "", "aws_visibility": None}) == SubmitChoices(
        DEFAULT_INVOLVEMENT_TYPE, DEFAULT_VISIBILITY
    )


@given(st.text(max_size=30), st.text(max_size=30))
def test_submit_choices_use_only_botocore_values_and_name_every_bad_one(involvement, visibility):
    choices = submit_choices(None, None, {"aws_involvement_type": involvement, "aws_visibility": visibility})
    assert choices.involvement_type in INVOLVEMENT_TYPES and choices.visibility in VISIBILITIES
    bad = {
        prop
        for prop, value, allowed in (
            ("aws_involvement_type", involvement, INVOLVEMENT_TYPES),
            ("aws_visibility", visibility, VISIBILITIES),
        )
        if value.strip() and value.strip() not in allowed
    }
    assert {p.field for p in choices.problems} == bad
    for problem in choices.problems:
        assert str(problem).startswith(problem.field) and problem.allowed_text in str(problem)


def test_problems_by_field_split_field_errors_and_name_the_cause_otherwise():
    problems = [
        "Project.DeliveryModels: required for submission to AWS (value: None; allowed: SaaS or PaaS)",
        "aws_visibility: not a value Partner Central accepts (value: 'Public'; allowed: Full | Limited)",
        "deal 9 could not be read with its company and contacts",
    ]
    assert problems_by_field(SubmissionStatus.INVALID, problems, "m") == [
        ("Project.DeliveryModels", "required for submission to AWS (value: None; allowed: SaaS or PaaS)"),
        ("aws_visibility", "not a value Partner Central accepts (value: 'Public'; allowed: Full | Limited)"),
        ("deal", "deal 9 could not be read with its company and contacts"),
    ]
    assert problems_by_field(SubmissionStatus.NOT_LINKED, [], "not linked") == [
        ("aws_opportunity_id", "not linked")
    ]
    assert problems_by_field(SubmissionStatus.NOT_FOUND, [], "not found") == [("dealId", "not found")]


def test_every_submission_status_has_an_answer_for_the_caller():
    assert set(REQUEST_STATUS_OF) == set(SubmissionStatus)
    assert REQUEST_STATUS_OF[SubmissionStatus.INVALID] == SubmitRequestStatus.VALIDATION_FAILED
    assert REQUEST_STATUS_OF[SubmissionStatus.PENDING] == SubmitRequestStatus.RUNNING
