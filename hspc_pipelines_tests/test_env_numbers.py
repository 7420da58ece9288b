"""Pacing variables: one reader for the resources and the clients' from_env, and one clear refusal."""

from __future__ import annotations

import pytest

from hspc_pipelines.defs.resources import build_resources
from hspc_pipelines.env_numbers import EnvNumberError
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.partner_central.client import PartnerCentralClient

BAD = [
    ("HSPC_HUBSPOT_REQUESTS_PER_10S", "lots", "a whole number, 1 or more"),
    ("HSPC_HUBSPOT_REQUESTS_PER_10S", "12.5", "a whole number, 1 or more"),
    ("HSPC_HUBSPOT_REQUESTS_PER_10S", "0", "a whole number, 1 or more"),
    ("HSPC_HUBSPOT_SEARCH_PER_SECOND", "nan", "a number above 0"),
    ("HSPC_PC_READS_PER_SECOND", "-1", "a number above 0"),
    ("HSPC_PC_WRITES_PER_SECOND", "1/s", "a number above 0"),
]


def _from_env(name: str) -> object:
    if name.startswith("HSPC_HUBSPOT_"):
        return HubSpotClient.from_env()
    return PartnerCentralClient.from_env()


@pytest.mark.parametrize(("name", "value", "allowed"), BAD)
def test_a_bad_pacing_value_is_refused_by_name_value_and_range_wherever_it_is_read(
    monkeypatch, tmp_path, name, value, allowed
):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test")
    monkeypatch.setenv(name, value)
    expected = f"{name}={value!r} cannot be used; allowed: {allowed}"
    with pytest.raises(EnvNumberError) as from_resources:
        build_resources(str(tmp_path))
    with pytest.raises(EnvNumberError) as from_client:
        _from_env(name)
    assert str(from_resources.value) == str(from_client.value) == expected


def test_unset_or_empty_means_the_default_and_whole_numbers_may_be_written_as_floats(monkeypatch, tmp_path):
    monkeypatch.setenv("HSPC_HUBSPOT_REQUESTS_PER_10S", "50.0")
    monkeypatch.setenv("HSPC_HUBSPOT_SEARCH_PER_SECOND", "")
    monkeypatch.setenv("HSPC_PC_WRITES_PER_SECOND", "2.5")
    monkeypatch.delenv("HSPC_PC_READS_PER_SECOND", raising=False)
    monkeypatch.setenv("HSPC_PC_WRITE_WORKERS", "0")
    resources = build_resources(str(tmp_path))
    hubspot, pc = resources["hubspot"], resources["partner_central"]
    assert (hubspot.requests_per_10s, hubspot.search_per_second) == (50, 4.0)
    assert (pc.reads_per_second, pc.writes_per_second, pc.write_workers) == (10.0, 2.5, 0)
    monkeypatch.setenv("HSPC_PC_WRITE_WORKERS", "-1")
    with pytest.raises(EnvNumberError, match="HSPC_PC_WRITE_WORKERS='-1' .* a whole number, 0 or more"):
        build_resources(str(tmp_path))


@pytest.mark.parametrize(
    ("value", "expected"), [("", 60.0), ("0", 0.0), ("2.5", 2.5), ("-1", None), ("soon", None), ("inf", None)]
)
def test_a_wait_in_seconds_is_zero_or_more(monkeypatch, value, expected):
    from hspc_pipelines.env_numbers import env_seconds

    monkeypatch.setenv("HSPC_TASK_POLL_BUDGET_SECONDS", value)
    if expected is None:
        with pytest.raises(
            EnvNumberError, match=r"HSPC_TASK_POLL_BUDGET_SECONDS=.* allowed: a number of seconds"
        ):
            env_seconds("HSPC_TASK_POLL_BUDGET_SECONDS", 60.0)
    else:
        assert env_seconds("HSPC_TASK_POLL_BUDGET_SECONDS", 60.0) == expected
