from __future__ import annotations

import pytest

from hspc_pipelines.mapping import FieldError, model
from hspc_pipelines.mapping.geo import country_code, country_name, us_state


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("UK", "GB"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("U.S.", "US"),
        ("England", "GB"),
        ("South Korea", "KR"),
        ("Russia", "RU"),
        ("Germany", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("fra", "FR"),
        ("United Kingdom", "GB"),
        ("  united   states ", "US"),
        ("Côte d'Ivoire", "CI"),
        ("Viet Nam", "VN"),
        ("Korea, Republic of", "KR"),
        ("Czechia", "CZ"),
        ("The Netherlands", "NL"),
        ("UAE", "AE"),
        ("Brasil", "BR"),
        ("Deutschland", "DE"),
        ("España", "ES"),
        ("Österreich", "AT"),
    ],
)
def test_country_aliases(raw: str, code: str) -> None:
    assert country_code(raw) == code
    assert code in model.COUNTRY_CODES


@pytest.mark.parametrize("raw", ["Narnia", "", "XX", "Europe", "12"])
def test_unknown_country_is_an_error(raw: str) -> None:
    err = country_code(raw, "company.country")
    assert isinstance(err, FieldError) and err.field == "company.country" and err.value == raw


def test_every_model_country_round_trips_through_its_name() -> None:
    for code in model.COUNTRY_CODES:
        name = country_name(code)
        assert name is not None
        assert country_code(name) == code, (code, name)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("CA", "California"),
        ("california", "California"),
        ("NY", "New York"),
        ("DC", "Dist. of Columbia"),
        ("District of Columbia", "Dist. of Columbia"),
        ("PR", "Puerto Rico"),
        ("Texas", "Texas"),
    ],
)
def test_us_states_become_full_names(raw: str, name: str) -> None:
    assert us_state(raw) == name


def test_unknown_us_state_is_an_error() -> None:
    err = us_state("Ontario")
    assert isinstance(err, FieldError) and "California" in err.allowed_text
