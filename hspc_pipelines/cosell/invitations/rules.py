"""Which AWS opportunity invitations to accept and which to reject, and why.

Pure: an invitation (the GetEngagementInvitation answer) and a rule set in, a decision out. Rules are
read in order; the first rule whose conditions all hold decides; when none does, the default action
applies (accept, unless configured otherwise). A rule that rejects carries the reason sent to AWS
(RejectEngagementInvitation accepts at most 80 printable characters).

Configuration shape (YAML or JSON; see docs/cosell-flows.md)::

    default: accept            # accept | reject
    default_reason: "..."      # required when default is reject
    rules:
      - name: outside-territory
        action: reject
        reason: "Customer outside our sales territory"
        when:
          country_not_in: [US, CA]
      - name: no-gaming
        action: reject
        reason: "We do not serve the gaming industry"
        when:
          industry_in: [Gaming]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

ACCEPT, REJECT = "accept", "reject"
ACTIONS = (ACCEPT, REJECT)
REJECTION_REASON_MAX = 80
_REASON_CHARS = re.compile("^[\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd]+$")

# Partner Central's Industry enumeration (botocore partnercentral-selling 2022-07-26).
INDUSTRIES = (
    "Aerospace",
    "Agriculture",
    "Automotive",
    "Computers and Electronics",
    "Consumer Goods",
    "Education",
    "Energy - Oil and Gas",
    "Energy - Power and Utilities",
    "Financial Services",
    "Gaming",
    "Government",
    "Healthcare",
    "Hospitality",
    "Life Sciences",
    "Manufacturing",
    "Marketing and Advertising",
    "Media and Entertainment",
    "Mining",
    "Non-Profit Organization",
    "Professional Services",
    "Real Estate and Construction",
    "Retail",
    "Software and Internet",
    "Telecommunications",
    "Transportation and Logistics",
    "Travel",
    "Wholesale and Distribution",
    "Other",
)
OPPORTUNITY_TYPES = ("Net New Business", "Flat Renewal", "Expansion")
_LIST_CONDITIONS = (
    "country_in",
    "country_not_in",
    "industry_in",
    "industry_not_in",
    "opportunity_type_in",
    "sender_account_in",
    "title_contains_any",
)
_NUMBER_CONDITIONS = ("min_monthly_spend", "max_monthly_spend")
CONDITIONS = _LIST_CONDITIONS + _NUMBER_CONDITIONS
_RULE_KEYS = ("name", "action", "reason", "when")
_TOP_KEYS = ("default", "default_reason", "rules")


class RulesConfigError(ValueError):
    """A rule set that cannot be used; names the field, the value and what is allowed."""

    def __init__(self, field_name: str, value: object, allowed: str) -> None:
        self.field = field_name
        self.value = value
        self.allowed = allowed
        super().__init__(f"invitation rules: {field_name} = {value!r} is not valid; allowed: {allowed}")


@dataclass(frozen=True)
class InvitationFacts:
    """What rules can look at, taken from an opportunity invitation."""

    invitation_id: str
    country: str | None = None
    industry: str | None = None
    company_name: str | None = None
    title: str | None = None
    monthly_spend: Decimal | None = None
    opportunity_type: str | None = None
    sender_account: str | None = None
    sender_company: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    action: str
    reason: str | None = None
    when: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, facts: InvitationFacts) -> bool:
        """True when every condition holds (a rule with no condition matches everything)."""
        return all(_holds(name, value, facts) for name, value in self.when.items())


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str | None
    rule: str | None  # the rule that decided; None for the default

    @property
    def accept(self) -> bool:
        return self.action == ACCEPT


@dataclass(frozen=True)
class InvitationRules:
    default: str = ACCEPT
    default_reason: str | None = None
    rules: tuple[Rule, ...] = ()

    def decide(self, facts: InvitationFacts) -> Decision:
        for rule in self.rules:
            if rule.matches(facts):
                return Decision(rule.action, rule.reason if rule.action == REJECT else None, rule.name)
        return Decision(self.default, self.default_reason if self.default == REJECT else None, None)


ACCEPT_ALL = InvitationRules()


def _norm(text: str | None) -> str:
    return (text or "").strip().casefold()


def _holds(name: str, value: Any, facts: InvitationFacts) -> bool:
    if name == "country_in":
        return _norm(facts.country) in {_norm(v) for v in value}
    if name == "country_not_in":
        return _norm(facts.country) not in {_norm(v) for v in value}
    if name == "industry_in":
        return _norm(facts.industry) in {_norm(v) for v in value}
    if name == "industry_not_in":
        return _norm(facts.industry) not in {_norm(v) for v in value}
    if name == "opportunity_type_in":
        return _norm(facts.opportunity_type) in {_norm(v) for v in value}
    if name == "sender_account_in":
        return _norm(facts.sender_account) in {_norm(v) for v in value}
    if name == "title_contains_any":
        title = _norm(facts.title)
        return any(_norm(v) in title for v in value)
    if name == "min_monthly_spend":  # unknown spend never satisfies a spend condition
        return facts.monthly_spend is not None and facts.monthly_spend >= Decimal(str(value))
    if name == "max_monthly_spend":
        return facts.monthly_spend is not None and facts.monthly_spend <= Decimal(str(value))
    raise RulesConfigError(f"when.{name}", value, ", ".join(CONDITIONS))  # parse_rules prevents this


def _decimal(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def facts_from_invitation(invitation: Mapping[str, Any]) -> InvitationFacts:
    """Rule inputs from a GetEngagementInvitation answer (OpportunityInvitation payload)."""
    payload = (invitation.get("Payload") or {}).get("OpportunityInvitation") or {}
    customer = payload.get("Customer") or {}
    project = payload.get("Project") or {}
    spend = project.get("ExpectedCustomerSpend") or []
    amounts = [
        a for a in (_decimal(s.get("Amount")) for s in spend if isinstance(s, Mapping)) if a is not None
    ]
    return InvitationFacts(
        invitation_id=str(invitation.get("Id") or ""),
        country=customer.get("CountryCode"),
        industry=customer.get("Industry"),
        company_name=customer.get("CompanyName"),
        title=project.get("Title"),
        monthly_spend=sum(amounts, Decimal(0)) if amounts else None,
        opportunity_type=payload.get("OpportunityType"),
        sender_account=invitation.get("SenderAwsAccountId"),
        sender_company=invitation.get("SenderCompanyName"),
    )


def _check_reason(field_name: str, reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise RulesConfigError(field_name, reason, "a non-empty text (sent to AWS as RejectionReason)")
    reason = reason.strip()
    if len(reason) > REJECTION_REASON_MAX or not _REASON_CHARS.match(reason):
        raise RulesConfigError(
            field_name, reason, f"at most {REJECTION_REASON_MAX} printable characters (no line breaks)"
        )
    return reason


def _check_list(field_name: str, value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not value or not all(isinstance(v, str) and v for v in value):
        raise RulesConfigError(field_name, value, "a non-empty list of texts")
    return [str(v) for v in value]


def _check_condition(field_name: str, name: str, value: object, countries: frozenset[str] | None) -> object:
    if name not in CONDITIONS:
        raise RulesConfigError(field_name, name, ", ".join(CONDITIONS))
    if name in _NUMBER_CONDITIONS:
        number = _decimal(value) if not isinstance(value, bool) else None
        if number is None or number < 0:
            raise RulesConfigError(field_name, value, "a number >= 0 (monthly expected customer spend)")
        return str(number)
    items = _check_list(field_name, value)
    if name.startswith("country"):
        bad = [
            v
            for v in items
            if len(v.strip()) != 2 or (countries is not None and v.strip().upper() not in countries)
        ]
        items = [v.strip().upper() for v in items]
        if bad:
            raise RulesConfigError(
                field_name,
                bad if len(bad) > 1 else bad[0],
                "ISO 3166-1 alpha-2 country codes such as US, DE, JP",
            )
    elif name.startswith("industry"):
        known = {i.casefold(): i for i in INDUSTRIES}
        bad = [v for v in items if v.strip().casefold() not in known]
        if bad:
            raise RulesConfigError(
                field_name,
                bad if len(bad) > 1 else bad[0],
                "Partner Central industries: " + ", ".join(INDUSTRIES),
            )
        items = [known[v.strip().casefold()] for v in items]
    elif name == "opportunity_type_in":
        bad = [v for v in items if v not in OPPORTUNITY_TYPES]
        if bad:
            raise RulesConfigError(field_name, bad if len(bad) > 1 else bad[0], ", ".join(OPPORTUNITY_TYPES))
    return items


def parse_rules(data: Mapping[str, Any] | None, countries: frozenset[str] | None = None) -> InvitationRules:
    """A validated rule set from its configuration (None or empty: accept every invitation).

    countries: the valid ISO alpha-2 codes, when the caller can supply them (pycountry)."""
    if not data:
        return ACCEPT_ALL
    if not isinstance(data, Mapping):
        raise RulesConfigError("invitation rules", data, "a mapping with keys " + ", ".join(_TOP_KEYS))
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise RulesConfigError(unknown[0], data[unknown[0]], "keys " + ", ".join(_TOP_KEYS))
    default = str(data.get("default") or ACCEPT).strip().lower()
    if default not in ACTIONS:
        raise RulesConfigError("default", data.get("default"), " | ".join(ACTIONS))
    default_reason = (
        _check_reason("default_reason", data.get("default_reason")) if default == REJECT else None
    )
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, Sequence) or isinstance(raw_rules, str | bytes):
        raise RulesConfigError("rules", raw_rules, "a list of rules")
    rules = []
    for i, raw in enumerate(raw_rules):
        where = f"rules[{i}]"
        if not isinstance(raw, Mapping):
            raise RulesConfigError(where, raw, "a mapping with keys " + ", ".join(_RULE_KEYS))
        extra = sorted(set(raw) - set(_RULE_KEYS))
        if extra:
            raise RulesConfigError(f"{where}.{extra[0]}", raw[extra[0]], "keys " + ", ".join(_RULE_KEYS))
        name = str(raw.get("name") or f"rule {i + 1}")
        action = str(raw.get("action") or "").strip().lower()
        if action not in ACTIONS:
            raise RulesConfigError(f"{where}.action", raw.get("action"), " | ".join(ACTIONS))
        reason = _check_reason(f"{where}.reason", raw.get("reason")) if action == REJECT else None
        when = raw.get("when") or {}
        if not isinstance(when, Mapping):
            raise RulesConfigError(f"{where}.when", when, "a mapping of conditions: " + ", ".join(CONDITIONS))
        conditions = {
            str(k): _check_condition(f"{where}.when.{k}", str(k), v, countries) for k, v in when.items()
        }
        rules.append(Rule(name=name, action=action, reason=reason, when=conditions))
    return InvitationRules(default=default, default_reason=default_reason, rules=tuple(rules))
