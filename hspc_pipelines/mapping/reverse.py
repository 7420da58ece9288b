"""Opportunity (+ AWS summary) → HubSpot deal, company and contact properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import geo, industries, stages
from .build import owned_fields
from .config import MappingConfig
from .contacts import contact_to_hubspot
from .text_fields import deal_name, domain_of
from .types import NewDeal
from .values import canonical_amount, date_text, dig, hubspot_datetime, parse_decimal


def _s(value: Any) -> str | None:
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def _spend_entry(opportunity: Mapping[str, Any]) -> Mapping[str, Any] | None:
    spend = dig(opportunity, "Project", "ExpectedCustomerSpend")
    if not isinstance(spend, list | tuple):
        return None
    entries = [e for e in spend if isinstance(e, Mapping)]
    preferred = [e for e in entries if e.get("TargetCompany") == "AWS"] or entries
    return preferred[0] if preferred else None


def _amount(opportunity: Mapping[str, Any], config: MappingConfig) -> tuple[str | None, str | None]:
    """HubSpot `amount` and currency from the monthly spend (times the term for total contract value)."""
    entry = _spend_entry(opportunity)
    if entry is None:
        return None, None
    monthly = parse_decimal(str(entry.get("Amount") or "").strip())
    currency = _s(entry.get("CurrencyCode"))
    if monthly is None:
        return None, currency
    if config.amount_mode == "total_contract":
        monthly = monthly * Decimal(config.contract_term_months)
    return canonical_amount(monthly), currency


def _team(summary: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    members = summary.get("OpportunityTeam") if isinstance(summary, Mapping) else None
    if not isinstance(members, list | tuple):
        return None, None
    lines, seller = [], None
    for m in members:
        if not isinstance(m, Mapping):
            continue
        name = " ".join(p for p in (_s(m.get("FirstName")), _s(m.get("LastName"))) if p)
        email = _s(m.get("Email"))
        who = f"{name} <{email}>" if name and email else (name or email or "")
        lines.append(f"{_s(m.get('BusinessTitle')) or 'Member'}: {who}")
        if seller is None and m.get("BusinessTitle") in ("AWSSalesRep", "AWSAccountOwner"):
            seller = who or None
    return ("\n".join(lines) or None), seller


def opportunity_to_deal_properties(
    opportunity: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    config: MappingConfig,
    pipeline: str | None,
) -> dict[str, str | None]:
    """Partner-Central-owned fields as deal properties. Summary keys only when a summary is given,
    so a run without summaries never clears what an earlier one wrote."""
    if not isinstance(opportunity, Mapping):
        return {}
    comments = [
        c
        for c in (
            _s(dig(opportunity, "LifeCycle", "ReviewStatusReason")),
            _s(dig(opportunity, "LifeCycle", "ReviewComments")),
        )
        if c
    ]
    props: dict[str, str | None] = {
        "aws_opportunity_id": _s(opportunity.get("Id")),
        "aws_opportunity_arn": _s(opportunity.get("Arn")),
        "aws_opportunity_title": _s(dig(opportunity, "Project", "Title")),
        "aws_review_status": _s(dig(opportunity, "LifeCycle", "ReviewStatus")),
        "aws_review_comments": "\n".join(comments) or None,
        "aws_stage": _s(dig(opportunity, "LifeCycle", "Stage")),
    }
    if isinstance(summary, Mapping):
        team, seller = _team(summary)
        props.update(
            {
                "aws_engagement_score": _s(dig(summary, "Insights", "EngagementScore")),
                "aws_next_steps": _s(dig(summary, "Insights", "NextBestActions")),
                "aws_team": team,
                "aws_seller_name": seller,
                "aws_involvement_type": _s(summary.get("InvolvementType")),
                "aws_visibility": _s(summary.get("Visibility")),
            }
        )
    # Fields a deployment gave to Partner Central flow back onto the deal as well.
    owned = owned_fields(config)
    owned_by_pc = {f for f in ("title", "problem", "spend", "stage", "close_date") if f not in owned}
    if "title" in owned_by_pc:
        props["dealname"] = deal_name(_s(dig(opportunity, "Project", "Title")), config.cosell_tag)
    if "problem" in owned_by_pc:
        props["description"] = _s(dig(opportunity, "Project", "CustomerBusinessProblem"))
    if "spend" in owned_by_pc:
        props["amount"], props["deal_currency_code"] = _amount(opportunity, config)
    if "stage" in owned_by_pc and pipeline:
        hs_stage = stages.to_hubspot(dig(opportunity, "LifeCycle", "Stage"), pipeline, config)
        if hs_stage is not None:
            props["dealstage"] = hs_stage
    if "close_date" in owned_by_pc:
        props["closedate"] = hubspot_datetime(
            date_text(dig(opportunity, "LifeCycle", "TargetCloseDate")), config.timezone
        )
    return props


def _join(values: Any) -> str | None:
    if not isinstance(values, list | tuple):
        return None
    return ";".join(str(v) for v in values if v) or None


def opportunity_to_new_deal(
    opportunity: Mapping[str, Any], config: MappingConfig, invitation_id: str | None
) -> NewDeal:
    """A deal (name tagged for co-sell), its company and contacts, for an opportunity from AWS."""
    opp: Mapping[str, Any] = opportunity if isinstance(opportunity, Mapping) else {}
    account = dig(opp, "Customer", "Account") or {}
    company_name = _s(dig(account, "CompanyName"))
    title = _s(dig(opp, "Project", "Title")) or (
        f"AWS Opportunity - {company_name}" if company_name else None
    )
    amount, currency = _amount(opp, config)
    pipeline = config.default_pipeline
    deal: dict[str, str | None] = {
        "dealname": deal_name(title, config.cosell_tag) or f"AWS Opportunity {config.cosell_tag}",
        "pipeline": pipeline,
        "dealstage": stages.to_hubspot(dig(opp, "LifeCycle", "Stage"), pipeline, config),
        "closedate": hubspot_datetime(date_text(dig(opp, "LifeCycle", "TargetCloseDate")), config.timezone),
        "amount": amount,
        "deal_currency_code": currency,
        "description": _s(dig(opp, "Project", "CustomerBusinessProblem")),
        "aws_opportunity_id": _s(opp.get("Id")),
        "aws_invitation_id": _s(invitation_id),
        "aws_review_status": _s(dig(opp, "LifeCycle", "ReviewStatus")),
        "aws_stage": _s(dig(opp, "LifeCycle", "Stage")),
        "aws_delivery_models": _join(dig(opp, "Project", "DeliveryModels")),
        "aws_primary_needs": _join(opp.get("PrimaryNeedsFromAws")),
        "aws_use_case": _s(dig(opp, "Project", "CustomerUseCase")),
    }
    industry, other = _s(dig(account, "Industry")), _s(dig(account, "OtherIndustry"))
    hs_industry = industries.to_hubspot(industry, other)
    if industry and industry != "Other" and hs_industry is None:
        deal["aws_industry"] = industry  # HubSpot has no option for it: keep it as the deal override
    website = _s(dig(account, "WebsiteUrl"))
    address = dig(account, "Address") or {}
    country = _s(dig(address, "CountryCode"))
    company: dict[str, str | None] = {
        "name": company_name,
        "domain": domain_of(website),
        "website": website,
        "industry": hs_industry,
        "country": geo.country_name(country),
        "city": _s(dig(address, "City")),
        "state": _s(dig(address, "StateOrRegion")),
        "zip": _s(dig(address, "PostalCode")),
        "address": _s(dig(address, "StreetAddress")),
    }
    raw_contacts = dig(opp, "Customer", "Contacts")
    contacts = (
        [contact_to_hubspot(c) for c in raw_contacts if isinstance(c, dict)]
        if isinstance(raw_contacts, list | tuple)
        else []
    )
    return NewDeal(deal, company, contacts)


# -- Partner Central edits of what HubSpot holds on the company, the contacts and the deal -------------

Path = tuple[str, ...]
_ACCOUNT: Path = ("Customer", "Account")
_ADDRESS: Path = (*_ACCOUNT, "Address")
# Each member merged both ways apart from the deal's own fields: its opportunity members (the paths
# `build.OWNED_PATHS` lists under the logical field in `MEMBER_FIELD`).
MEMBER_PATHS: dict[str, tuple[Path, ...]] = {
    "customer.name": ((*_ACCOUNT, "CompanyName"),),
    "customer.industry": ((*_ACCOUNT, "Industry"), (*_ACCOUNT, "OtherIndustry")),
    "customer.website": ((*_ACCOUNT, "WebsiteUrl"),),
    "customer.country": ((*_ADDRESS, "CountryCode"),),
    "customer.state": ((*_ADDRESS, "StateOrRegion"),),
    "customer.city": ((*_ADDRESS, "City"),),
    "customer.postal_code": ((*_ADDRESS, "PostalCode"),),
    "customer.street": ((*_ADDRESS, "StreetAddress"),),
    "contacts": (("Customer", "Contacts"),),
    "delivery_models": (("Project", "DeliveryModels"),),
    "primary_needs": (("PrimaryNeedsFromAws",),),
    "use_case": (("Project", "CustomerUseCase"),),
}
MEMBER_FIELD: dict[str, str] = {m: m.split(".")[0] for m in MEMBER_PATHS}
# The HubSpot properties each member is read from (`build.build_body`): (object, properties).
MEMBER_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "customer.name": ("company", ("name",)),
    "customer.industry": ("company", ("industry",)),
    "customer.website": ("company", ("website", "domain")),
    "customer.country": ("company", ("country",)),
    "customer.state": ("company", ("state",)),
    "customer.city": ("company", ("city",)),
    "customer.postal_code": ("company", ("zip",)),
    "customer.street": ("company", ("address",)),
    "contacts": ("contacts", ("email", "firstname", "lastname", "jobtitle", "phone", "mobilephone")),
    "delivery_models": ("deal", ("aws_delivery_models",)),
    "primary_needs": ("deal", ("aws_primary_needs",)),
    "use_case": ("deal", ("aws_use_case",)),
}
_COMPANY_PROPERTY: dict[str, str] = {
    "customer.name": "name",
    "customer.website": "website",
    "customer.state": "state",
    "customer.city": "city",
    "customer.postal_code": "zip",
    "customer.street": "address",
}
_DEAL_LISTS: dict[str, str] = {"delivery_models": "aws_delivery_models", "primary_needs": "aws_primary_needs"}


@dataclass
class RecordWrites:
    """HubSpot writes that give a deal's records an opportunity's value: deal properties, company
    properties (the deal's primary company) and contact properties by contact id."""

    deal: dict[str, str | None] = field(default_factory=dict)
    company: dict[str, str | None] = field(default_factory=dict)
    contacts: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def update(self, other: RecordWrites) -> None:
        self.deal.update(other.deal)
        self.company.update(other.company)
        for contact_id, props in other.contacts.items():
            self.contacts.setdefault(contact_id, {}).update(props)

    def __bool__(self) -> bool:
        return bool(self.deal or self.company or self.contacts)


def _industry_writes(
    opportunity: Mapping[str, Any], deal: Mapping[str, Any], config: MappingConfig
) -> RecordWrites | None:
    """Industry: the company's `industry` when HubSpot has an option that maps back to it, else the
    deal's `aws_industry` override (which `build` reads first); "Other" with a text HubSpot has no
    option for cannot be held."""
    industry = _s(dig(opportunity, *_ACCOUNT, "Industry"))
    other = _s(dig(opportunity, *_ACCOUNT, "OtherIndustry"))
    hs_value = industries.to_hubspot(industry, other)
    if hs_value is not None and industries.from_hubspot(hs_value, None, config.industry_overrides) == (
        industries.Industry(industry or "Other", other) if industry else None
    ):
        return RecordWrites(
            deal={"aws_industry": None} if _s(deal.get("aws_industry")) else {},
            company={"industry": hs_value},
        )
    if industry and industry != "Other":
        return RecordWrites(deal={"aws_industry": industry})
    if industry is None and other is None:
        return RecordWrites(deal={"aws_industry": None}, company={"industry": None})
    return None


def _contacts_writes(
    opportunity: Mapping[str, Any], contacts: Sequence[Mapping[str, Any]]
) -> RecordWrites | None:
    """The opportunity's contacts onto the deal's contacts with the same emails, in the same order;
    a contact added, removed or given another email in Partner Central cannot be (which HubSpot
    contact would it be?)."""
    wanted = dig(opportunity, "Customer", "Contacts")
    wanted = [c for c in wanted if isinstance(c, Mapping)] if isinstance(wanted, list | tuple) else []
    by_email = {
        str(c.get("email")).strip().lower(): str(c["hs_object_id"])
        for c in contacts
        if c.get("email") and c.get("hs_object_id")
    }
    writes = RecordWrites()
    for contact in wanted:
        email = _s(contact.get("Email"))
        contact_id = by_email.get(email.lower()) if email else None
        if contact_id is None:
            return None
        props = contact_to_hubspot(dict(contact))
        props.pop("email")
        writes.contacts[contact_id] = props
    return writes


def member_to_hubspot(
    member: str,
    opportunity: Mapping[str, Any],
    deal: Mapping[str, Any],
    company: Mapping[str, Any] | None,
    contacts: Sequence[Mapping[str, Any]],
    config: MappingConfig,
) -> RecordWrites | None:
    """The HubSpot writes that hold the opportunity's value of `member` (a `MEMBER_PATHS` key), or
    None when HubSpot cannot hold it (no company to write to, a contact HubSpot does not have, an
    industry with no HubSpot option). The caller checks the writes map back to the same value."""
    if member in _DEAL_LISTS:
        return RecordWrites(deal={_DEAL_LISTS[member]: _join(dig(opportunity, *MEMBER_PATHS[member][0]))})
    if member == "use_case":
        return RecordWrites(deal={"aws_use_case": _s(dig(opportunity, "Project", "CustomerUseCase"))})
    if member == "contacts":
        return _contacts_writes(opportunity, contacts)
    if company is None or not company.get("hs_object_id"):
        return None
    if member == "customer.industry":
        return _industry_writes(opportunity, deal, config)
    value = _s(dig(opportunity, *MEMBER_PATHS[member][0]))
    if member == "customer.country":
        return RecordWrites(company={"country": geo.country_name(value)})
    return RecordWrites(company={_COMPANY_PROPERTY[member]: value})
