"""HubSpot company industry → Partner Central industry, from an explicit hand-written table.

`data/industry_map.tsv` maps every value of HubSpot's default `industry` enumeration
(`data/hubspot_company_industries.tsv`) to one of the model's 28 industries. No guessing: a value
not in the table (nor in the config's overrides) becomes `Other` with `OtherIndustry` set.

`data/source_document_industries.tsv` is the industry table of the earlier Lambda system's document
(`BANKING, FINANCE, FINANCIAL_SERVICES → Financial Services`, …): deals and companies filled by that
system carry its inputs, some of which (`FINANCE`, `HEALTHCARE`) are not HubSpot values.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

from . import model
from .errors import FieldError

# For the way back (opportunity → HubSpot company): the HubSpot value each industry is written as.
CANONICAL_HUBSPOT_VALUE: Final[Mapping[str, str]] = {
    "Aerospace": "AVIATION_AEROSPACE",
    "Agriculture": "FARMING",
    "Automotive": "AUTOMOTIVE",
    "Computers and Electronics": "COMPUTER_HARDWARE",
    "Consumer Goods": "CONSUMER_GOODS",
    "Education": "EDUCATION_MANAGEMENT",
    "Energy - Oil and Gas": "OIL_ENERGY",
    "Energy - Power and Utilities": "UTILITIES",
    "Financial Services": "FINANCIAL_SERVICES",
    "Gaming": "COMPUTER_GAMES",
    "Government": "GOVERNMENT_ADMINISTRATION",
    "Healthcare": "HOSPITAL_HEALTH_CARE",
    "Hospitality": "HOSPITALITY",
    "Life Sciences": "BIOTECHNOLOGY",
    "Manufacturing": "MACHINERY",
    "Marketing and Advertising": "MARKETING_AND_ADVERTISING",
    "Media and Entertainment": "ENTERTAINMENT",
    "Mining": "MINING_METALS",
    "Non-Profit Organization": "NON_PROFIT_ORGANIZATION_MANAGEMENT",
    "Professional Services": "MANAGEMENT_CONSULTING",
    "Real Estate and Construction": "REAL_ESTATE",
    "Retail": "RETAIL",
    "Software and Internet": "COMPUTER_SOFTWARE",
    "Telecommunications": "TELECOMMUNICATIONS",
    "Transportation and Logistics": "LOGISTICS_AND_SUPPLY_CHAIN",
    "Travel": "LEISURE_TRAVEL_TOURISM",
    "Wholesale and Distribution": "WHOLESALE",
}


def _read_tsv(name: str) -> list[dict[str, str]]:
    with resources.files(__package__).joinpath("data", name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@functools.cache
def hubspot_industries() -> dict[str, str]:
    """HubSpot internal value → label."""
    return {row["internal_value"]: row["label"] for row in _read_tsv("hubspot_company_industries.tsv")}


@functools.cache
def industry_table() -> dict[str, str]:
    """HubSpot internal value → Partner Central industry (the hand-written table)."""
    return {row["hubspot_value"]: row["partner_central_industry"] for row in _read_tsv("industry_map.tsv")}


@functools.cache
def source_document_table() -> dict[str, str]:
    """The earlier system's industry inputs → Partner Central industry (its documented table)."""
    return {
        row["input"]: row["partner_central_industry"] for row in _read_tsv("source_document_industries.tsv")
    }


@functools.cache
def _source_folded() -> dict[str, str]:
    return {k.casefold(): v for k, v in source_document_table().items()}


@functools.cache
def _by_key() -> dict[str, tuple[str, str]]:
    """Lookup key (internal value or label, case-folded) → (internal value, label)."""
    out: dict[str, tuple[str, str]] = {}
    for value, label in hubspot_industries().items():
        out[value.casefold()] = (value, label)
        out[label.casefold()] = (value, label)
    return out


@dataclass(frozen=True)
class Industry:
    industry: str
    other: str | None = None  # OtherIndustry, only with industry "Other"


@functools.cache
def _industries_folded() -> dict[str, str]:
    return {i.casefold(): i for i in model.INDUSTRIES}


def from_hubspot(
    company_industry: str | None, override: str | None, overrides: Mapping[str, str]
) -> Industry | FieldError | None:
    """The Partner Central industry of a company; the deal's `aws_industry` wins when set."""
    plain = (company_industry is None or type(company_industry) is str) and (
        override is None or type(override) is str
    )
    if plain and not overrides:
        return _from_hubspot_plain(company_industry, override)
    return _from_hubspot(company_industry, override, overrides)


@functools.lru_cache(maxsize=4_096)
def _from_hubspot_plain(company_industry: str | None, override: str | None) -> Industry | FieldError | None:
    """`from_hubspot` without configured overrides, memoised (the answers are immutable)."""
    return _from_hubspot(company_industry, override, {})


def _from_hubspot(
    company_industry: str | None, override: str | None, overrides: Mapping[str, str]
) -> Industry | FieldError | None:
    if override:
        exact = _industries_folded().get(override.casefold())
        if exact is None:
            return FieldError(
                "aws_industry", override, "not a Partner Central industry", list(model.INDUSTRIES)
            )
        return Industry(exact)
    if not company_industry:
        return None
    folded = {k.casefold(): v for k, v in overrides.items()}
    known = _by_key().get(company_industry.casefold())
    for key in (company_industry.casefold(), *(k.casefold() for k in (known or ()))):
        if key in folded:
            return _industry(folded[key], known[1] if known else company_industry)
    if known is not None:
        return _industry(industry_table()[known[0]], known[1])
    legacy = _source_folded().get(company_industry.casefold())
    if legacy is not None:
        return Industry(legacy)
    # A Partner Central industry given as is (an invitation's company, or a hand-typed value)
    exact = _industries_folded().get(company_industry.casefold())
    if exact is not None and exact != "Other":
        return Industry(exact)
    return Industry("Other", company_industry[:255])


def _industry(pc_industry: str, label: str) -> Industry:
    return Industry("Other", label[:255]) if pc_industry == "Other" else Industry(pc_industry)


def to_hubspot(industry: str | None, other: str | None) -> str | None:
    """The HubSpot `industry` value for an opportunity's industry (None when HubSpot has none)."""
    if industry == "Other" or not industry:
        known = _by_key().get(other.casefold()) if isinstance(other, str) else None
        return known[0] if known else None
    return CANONICAL_HUBSPOT_VALUE.get(industry)
