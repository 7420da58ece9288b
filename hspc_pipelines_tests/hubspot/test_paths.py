"""The one path builder: which versions it takes (and how it refuses the others), the paths it builds in
each family, and the setting that chooses the version."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.paths import (
    DATED,
    NUMBERED,
    UNVERSIONED,
    VERSION_ALLOWED,
    HubSpotPaths,
    end_of_support,
    family,
    parse_version,
)
from hspc_pipelines.settings import SettingsError, load_settings

RELEASES = st.builds(
    lambda year, month, beta: f"{year}-{month}{'-beta' if beta else ''}",
    st.integers(2026, 2099),
    st.sampled_from(["03", "09"]),
    st.booleans(),
)


@given(RELEASES)
def test_every_march_or_september_release_from_2026_03_is_a_version(version):
    parsed = parse_version(version)
    assert parsed.name == version and parsed.dated
    assert parsed.enforces_write_validation == (version[:7] >= "2026-09")


@given(
    st.one_of(
        st.builds(
            lambda y, m: f"{y}-{m:02d}",
            st.integers(1990, 2099),
            st.integers(1, 12).filter(lambda m: m not in (3, 9)),
        ),
        st.builds(lambda y, m: f"{y}-{m}", st.integers(1990, 2025), st.sampled_from(["03", "09"])),
        st.text(max_size=12).filter(
            lambda t: not re.fullmatch(r"\s*(\d{4}-(03|09)(-beta)?|legacy)\s*", t, re.I)
        ),
    )
)
def test_anything_else_is_refused_naming_the_value_and_what_is_allowed(text):
    with pytest.raises(ValueError) as refused:
        parse_version(text)
    assert repr(text.strip()) in str(refused.value) and VERSION_ALLOWED in str(refused.value)


@given(RELEASES)
def test_date_based_paths_carry_the_version_after_the_api_name(version):
    paths = HubSpotPaths(version)
    built = {
        paths.objects("/batch/read"): f"/crm/objects/{version}/{{object_type}}/batch/read",
        paths.objects("/search"): f"/crm/objects/{version}/{{object_type}}/search",
        paths.objects("/{object_id}"): f"/crm/objects/{version}/{{object_type}}/{{object_id}}",
        paths.properties(): f"/crm/properties/{version}/{{object_type}}",
        paths.pipelines(): f"/crm/pipelines/{version}/{{object_type}}",
        paths.associations(
            "/batch/create"
        ): f"/crm/associations/{version}/{{from_type}}/{{to_type}}/batch/create",
    }
    for path, expected in built.items():
        assert path == expected
        assert family(path) == DATED and end_of_support(path) is None


def test_legacy_builds_the_numbered_paths_with_their_end_of_support():
    paths = HubSpotPaths("legacy")
    assert paths.objects("/batch/read") == "/crm/v3/objects/{object_type}/batch/read"
    assert paths.properties("/{name}") == "/crm/v3/properties/{object_type}/{name}"
    assert paths.pipelines() == "/crm/v3/pipelines/{object_type}"
    assert paths.associations("/batch/read") == "/crm/v4/associations/{from_type}/{to_type}/batch/read"
    assert end_of_support(paths.associations("/batch/read")) == "2027-03-30"
    assert end_of_support(paths.objects()) == "2027-09"
    assert {family(p) for p in (paths.objects(), paths.associations(""), paths.token_info())} == {NUMBERED}


def test_the_token_introspection_is_the_one_numbered_path_of_a_dated_client():
    paths = HubSpotPaths()
    assert family(paths.token_info()) == NUMBERED and end_of_support(paths.token_info()) == "2027-09"
    assert family("/healthz") == UNVERSIONED


def test_the_setting_chooses_the_clients_version_and_refuses_a_bad_one(monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.delenv("HSPC_HUBSPOT_API_VERSION", raising=False)
    assert HubSpotClient.from_env().paths.objects() == "/crm/objects/2026-09/{object_type}"
    monkeypatch.setenv("HSPC_HUBSPOT_API_VERSION", "2027-03-beta")
    assert HubSpotClient.from_env().paths.objects() == "/crm/objects/2027-03-beta/{object_type}"
    monkeypatch.setenv("HSPC_HUBSPOT_API_VERSION", "2026-10")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert (
        str(refused.value) == f"HSPC_HUBSPOT_API_VERSION='2026-10' cannot be used; allowed: {VERSION_ALLOWED}"
    )
