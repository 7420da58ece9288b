"""Deal + company + contacts → the opportunity fields HubSpot can own, with errors per field.

`build_body` is shared by the create and the update request: create sends all of it, update
replaces only the fields HubSpot owns (`OWNED_PATHS`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from . import choices, geo, industries, model, stages, text_fields
from .config import MappingConfig
from .contacts import map_contacts
from .errors import FieldError
from .types import DealBundle
from .values import MAX_AMOUNT, canonical_amount, get, parse_decimal, text, to_date

Path = tuple[str, ...]
# Logical field (ownership table) → the opportunity members it covers.
OWNED_PATHS: Final[dict[str, tuple[Path, ...]]] = {
    "title": (("Project", "Title"),),
    "problem": (("Project", "CustomerBusinessProblem"),),
    "spend": (("Project", "ExpectedCustomerSpend"),),
    "stage": (("LifeCycle", "Stage"),),
    "close_date": (("LifeCycle", "TargetCloseDate"),),
    "customer": (
        ("Customer", "Account", "CompanyName"),
        ("Customer", "Account", "Industry"),
        ("Customer", "Account", "OtherIndustry"),
        ("Customer", "Account", "WebsiteUrl"),
        ("Customer", "Account", "Address", "CountryCode"),
        ("Customer", "Account", "Address", "StateOrRegion"),
        ("Customer", "Account", "Address", "City"),
        ("Customer", "Account", "Address", "PostalCode"),
        ("Customer", "Account", "Address", "StreetAddress"),
    ),
    "contacts": (("Customer", "Contacts"),),
    "delivery_models": (("Project", "DeliveryModels"),),
    "primary_needs": (("PrimaryNeedsFromAws",),),
    "use_case": (("Project", "CustomerUseCase"),),
}
# "Project.Title" etc.: the keys of the HubSpot-owned view, per path.
OWNED_KEYS: Final[dict[Path, str]] = {
    path: ".".join(path) for paths in OWNED_PATHS.values() for path in paths
}
COMPANY_NAME_MAX: Final = 120


def owned_fields(config: MappingConfig) -> tuple[str, ...]:
    """The logical fields of `OWNED_PATHS` that HubSpot owns under `config`, in table order."""
    global _owned_last
    ownership = config.ownership
    last = _owned_last  # (copy of the ownership last asked about, its answer)
    if last is not None and ownership == last[0]:
        return last[1]
    answer = _owned_fields(tuple(ownership.items()))
    _owned_last = (dict(ownership), answer)
    return answer


_owned_last: tuple[dict[str, str], tuple[str, ...]] | None = None


@functools.lru_cache(maxsize=64)
def _owned_fields(ownership: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    config = MappingConfig(ownership=dict(ownership))
    return tuple(logical for logical in OWNED_PATHS if config.hubspot_owns(logical))


_LIMITS: Final = {"City": 255, "PostalCode": 20, "StreetAddress": 255, "StateOrRegion": 255}
_CURRENCIES: Final = frozenset(model.CURRENCY_CODES)
_EMPTY: Final[tuple[Any, ...]] = (None, "", [], {})  # not values (compared with, never changed)


@dataclass
class Body:
    values: dict[Path, Any] = field(default_factory=dict)  # only members that have a value
    errors: dict[str, list[FieldError]] = field(default_factory=dict)  # per logical field
    warnings: list[str] = field(default_factory=list)

    def error(self, logical: str, err: FieldError) -> None:
        self.errors.setdefault(logical, []).append(err)

    def errs(self, logical: str) -> list[FieldError]:
        found = self.errors.get(logical)
        if found is None:
            found = self.errors[logical] = []
        return found

    def set(self, path: Path, value: Any) -> None:
        if value not in _EMPTY:
            self.values[path] = value


def nest(values: dict[Path, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in values.items():
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def build_body(bundle: DealBundle, config: MappingConfig) -> Body:
    body = Body()
    deal = getattr(bundle, "deal", None)
    company = getattr(bundle, "company", None)
    _project(deal, body, config)
    _lifecycle(deal, body, config)
    region = _customer(deal, company, body, config)
    body.set(
        ("Customer", "Contacts"),
        map_contacts(getattr(bundle, "contacts", None), region, config.max_contacts, body.warnings),
    )
    return body


def _project(deal: object, body: Body, config: MappingConfig) -> None:
    body.set(
        ("Project", "Title"),
        text_fields.title(text(deal, "dealname", body.errs("title")), config.cosell_tag, body.warnings),
    )
    if ("Project", "Title") not in body.values and not body.errs("title"):
        body.error(
            "title",
            FieldError(
                "dealname",
                get(deal, "dealname"),
                f"a deal name other than the {config.cosell_tag} tag is required",
                "1 to 255 characters",
            ),
        )
    body.set(
        ("Project", "CustomerBusinessProblem"),
        text_fields.problem(
            text(deal, "description", body.errs("problem")), body.errs("problem"), body.warnings
        ),
    )
    body.set(("Project", "ExpectedCustomerSpend"), _spend(deal, body, config))
    body.set(
        ("Project", "DeliveryModels"),
        choices.pick_many(
            text(deal, "aws_delivery_models", body.errs("delivery_models")),
            "aws_delivery_models",
            model.DELIVERY_MODELS,
            body.errs("delivery_models"),
        ),
    )
    needs = choices.pick_many(
        text(deal, "aws_primary_needs", body.errs("primary_needs")),
        "aws_primary_needs",
        model.PRIMARY_NEEDS,
        body.errs("primary_needs"),
    )
    body.set(("PrimaryNeedsFromAws",), needs or list(config.primary_needs_default))
    body.set(
        ("Project", "CustomerUseCase"),
        choices.pick_one(
            text(deal, "aws_use_case", body.errs("use_case")),
            "aws_use_case",
            choices.USE_CASES,
            body.errs("use_case"),
        ),
    )


def _spend(deal: object, body: Body, config: MappingConfig) -> list[dict[str, str]] | None:
    errors = body.errs("spend")
    override = text(deal, "aws_expected_spend", errors)
    amount = text(deal, "amount", errors)
    currency = (text(deal, "deal_currency_code", errors) or config.default_currency).upper()
    if currency not in _CURRENCIES:
        errors.append(
            FieldError(
                "deal_currency_code",
                currency,
                "not a currency Partner Central accepts",
                list(model.CURRENCY_CODES),
            )
        )
    source, raw = ("aws_expected_spend", override) if override else ("amount", amount)
    if raw is None:
        return None
    number = parse_decimal(raw)
    if number is None or number < 0:
        errors.append(
            FieldError(source, raw, "not a non-negative number", "a decimal number such as 12500.50")
        )
        return None
    if source == "amount" and config.amount_mode == "total_contract":
        number = number / Decimal(config.contract_term_months)  # total contract value → per month
    monthly = canonical_amount(number)
    if number >= MAX_AMOUNT or monthly is None:
        errors.append(FieldError(source, raw, "amount too large", "at most 31 integer digits"))
        return None
    if errors:
        return None
    return [
        {
            "Amount": monthly,
            "CurrencyCode": currency,
            "Frequency": "Monthly",
            "TargetCompany": config.target_company,
        }
    ]


def _lifecycle(deal: object, body: Body, config: MappingConfig) -> None:
    stage_errors = body.errs("stage")
    stage = stages.to_partner_central(
        text(deal, "dealstage", stage_errors), text(deal, "pipeline", stage_errors), config
    )
    if isinstance(stage, FieldError):
        stage_errors.append(stage)
    else:
        body.set(("LifeCycle", "Stage"), stage)
    raw = text(deal, "closedate", body.errs("close_date"))
    if raw is not None:
        day = to_date(raw, config.timezone)
        if day is None or day.year < 1000:
            body.error(
                "close_date",
                FieldError(
                    "closedate",
                    raw,
                    "not a date",
                    "an ISO date (2025-12-31), date-time or epoch milliseconds",
                ),
            )
        else:
            body.set(("LifeCycle", "TargetCloseDate"), day.isoformat())


_ACCOUNT: Path = ("Customer", "Account")


def _customer(deal: object, company: object, body: Body, config: MappingConfig) -> str | None:
    """Account and address; returns the country code (the phone numbers' region hint)."""
    errs = body.errs("customer")
    _company_name(company, body, errs)
    _industry(deal, company, body, config, errs)
    _website(company, body, errs)
    return _address(company, body, errs)


def _company_name(company: object, body: Body, errs: list[FieldError]) -> None:
    name = text(company, "name", errs, "company.name")
    if name is None:
        errs.append(
            FieldError(
                "company.name",
                name,
                "the deal needs a primary company with a name",
                f"1 to {COMPANY_NAME_MAX} characters",
            )
        )
    elif len(name) > COMPANY_NAME_MAX:
        errs.append(
            FieldError(
                "company.name", name, f"company name is {len(name)} characters", f"at most {COMPANY_NAME_MAX}"
            )
        )
    else:
        body.set(_ACCOUNT + ("CompanyName",), name)


def _industry(
    deal: object, company: object, body: Body, config: MappingConfig, errs: list[FieldError]
) -> None:
    industry = industries.from_hubspot(
        text(company, "industry", errs, "company.industry"),
        text(deal, "aws_industry", errs),
        config.industry_overrides,
    )
    if isinstance(industry, FieldError):
        errs.append(industry)
    elif industry is not None:
        body.set(_ACCOUNT + ("Industry",), industry.industry)
        body.set(_ACCOUNT + ("OtherIndustry",), industry.other)


def _website(company: object, body: Body, errs: list[FieldError]) -> None:
    """The company's website, or its domain when the website is unusable or missing."""
    site_raw = text(company, "website", errs, "company.website")
    domain_raw = text(company, "domain", errs, "company.domain")
    site = text_fields.website(site_raw)
    if site is None and site_raw:
        site = text_fields.website(domain_raw)
        if site is None:
            errs.append(
                FieldError(
                    "company.website",
                    site_raw,
                    "not a usable web address",
                    "a domain or http(s) URL of 4 to 255 characters, e.g. https://example.com",
                )
            )
        else:
            body.warnings.append(
                f"website_from_domain: website {site_raw[:80]!r} unusable, domain used instead"
            )
    elif site is None and domain_raw:
        site = text_fields.website(domain_raw)
        if site is None:
            errs.append(FieldError("company.domain", domain_raw, "not a usable domain", "e.g. example.com"))
    body.set(_ACCOUNT + ("WebsiteUrl",), site)


def _address(company: object, body: Body, errs: list[FieldError]) -> str | None:
    """Country code, state (a US state name for US customers), city, ZIP and street; returns the code."""
    address = _ACCOUNT + ("Address",)
    country_raw = text(company, "country", errs, "company.country")
    code: str | None = None
    if country_raw is not None:
        found = geo.country_code(country_raw, "company.country")
        if isinstance(found, FieldError):
            errs.append(found)
        else:
            code = found
            body.set(address + ("CountryCode",), code)
    state = text(company, "state", errs, "company.state")
    if state is not None and code == "US":
        named = geo.us_state(state, "company.state")
        if isinstance(named, FieldError):
            errs.append(named)
        else:
            body.set(address + ("StateOrRegion",), named)
    elif state is not None:
        _limited(body, address + ("StateOrRegion",), state, "company.state", errs)
    _limited(body, address + ("City",), text(company, "city", errs, "company.city"), "company.city", errs)
    _limited(body, address + ("PostalCode",), text(company, "zip", errs, "company.zip"), "company.zip", errs)
    _limited(
        body,
        address + ("StreetAddress",),
        text(company, "address", errs, "company.address"),
        "company.address",
        errs,
    )
    return code


def _limited(body: Body, path: Path, value: str | None, label: str, errs: list[FieldError]) -> None:
    if value is None:
        return
    limit = _LIMITS[path[-1]]
    if len(value) > limit:
        errs.append(FieldError(label, value, f"{len(value)} characters", f"at most {limit} characters"))
    else:
        body.set(path, value)
