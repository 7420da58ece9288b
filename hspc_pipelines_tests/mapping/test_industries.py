from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hspc_pipelines.mapping import model
from hspc_pipelines.mapping.industries import (
    CANONICAL_HUBSPOT_VALUE,
    Industry,
    from_hubspot,
    hubspot_industries,
    industry_table,
    source_document_table,
    to_hubspot,
)

DATA = Path(__file__).resolve().parents[2] / "hspc_pipelines" / "mapping" / "data"
ROWS = list(csv.DictReader((DATA / "hubspot_company_industries.tsv").open(encoding="utf-8"), delimiter="\t"))


def test_table_covers_exactly_the_147_hubspot_values() -> None:
    assert len(ROWS) == 147
    assert set(industry_table()) == {r["internal_value"] for r in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=[r["internal_value"] for r in ROWS])
def test_every_hubspot_industry_maps_to_a_model_industry(row: dict[str, str]) -> None:
    by_value = from_hubspot(row["internal_value"], None, {})
    by_label = from_hubspot(row["label"], None, {})
    assert isinstance(by_value, Industry) and by_value.industry in model.INDUSTRIES
    assert by_value.industry != "Other"
    assert by_label == by_value
    assert from_hubspot(row["label"].upper(), None, {}) == by_value


def test_known_entries() -> None:
    assert from_hubspot("COMPUTER_SOFTWARE", None, {}) == Industry("Software and Internet")
    assert from_hubspot("Banking", None, {}) == Industry("Financial Services")
    assert from_hubspot("OIL_ENERGY", None, {}) == Industry("Energy - Oil and Gas")


def test_unknown_becomes_other_with_original() -> None:
    assert from_hubspot("Underwater Basket Weaving", None, {}) == Industry(
        "Other", "Underwater Basket Weaving"
    )


def test_no_substring_guessing() -> None:
    assert from_hubspot("Software", None, {}) == Industry("Other", "Software")


def test_deal_override_wins_and_is_validated() -> None:
    assert from_hubspot("COMPUTER_SOFTWARE", "gaming", {}) == Industry("Gaming")
    err = from_hubspot("COMPUTER_SOFTWARE", "Video games", {})
    assert not isinstance(err, Industry) and err is not None and err.field == "aws_industry"
    assert "Gaming" in str(err)


def test_config_overrides() -> None:
    overrides = {"COMPUTER_SOFTWARE": "Telecommunications", "Religious Institutions": "Other"}
    assert from_hubspot("Computer Software", None, overrides) == Industry("Telecommunications")
    assert from_hubspot("RELIGIOUS_INSTITUTIONS", None, overrides) == Industry(
        "Other", "Religious Institutions"
    )


def test_model_has_28_industries_and_each_but_other_maps_back() -> None:
    assert len(model.INDUSTRIES) == 28
    for industry in model.INDUSTRIES:
        if industry == "Other":
            continue
        value = CANONICAL_HUBSPOT_VALUE[industry]
        assert value in hubspot_industries()
        assert industry_table()[value] == industry
        assert to_hubspot(industry, None) == value
    assert to_hubspot("Other", "Religious Institutions") == "RELIGIOUS_INSTITUTIONS"
    assert to_hubspot("Other", "something else") is None


# The source document's industry table, row by row (its first row lists three inputs).
SOURCE_DOCUMENT_ROWS = [
    ("BANKING", "Financial Services"),
    ("FINANCE", "Financial Services"),
    ("FINANCIAL_SERVICES", "Financial Services"),
    ("COMPUTER_SOFTWARE", "Software and Internet"),
    ("HEALTHCARE", "Healthcare"),
    ("MANUFACTURING", "Manufacturing"),
    ("RETAIL", "Retail"),
    ("EDUCATION", "Education"),
    ("GOVERNMENT", "Government"),
    ("HOSPITALITY", "Hospitality"),
]


@pytest.mark.parametrize(
    ("value", "industry"), SOURCE_DOCUMENT_ROWS, ids=[v for v, _ in SOURCE_DOCUMENT_ROWS]
)
def test_source_document_table_row(value: str, industry: str) -> None:
    assert from_hubspot(value, None, {}) == Industry(industry)
    assert from_hubspot(value.lower(), None, {}) == Industry(industry)


def test_source_document_table_is_the_data_file_and_agrees_with_hubspot_table() -> None:
    assert source_document_table() == dict(SOURCE_DOCUMENT_ROWS)
    for value, industry in SOURCE_DOCUMENT_ROWS:
        if value in industry_table():
            # Where the input is also a HubSpot value, both tables say the same thing.
            assert industry_table()[value] == industry


def test_config_override_wins_over_source_document_table() -> None:
    assert from_hubspot("FINANCE", None, {"FINANCE": "Retail"}) == Industry("Retail")
