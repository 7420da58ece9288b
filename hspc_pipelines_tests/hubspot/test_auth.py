"""HubSpot credentials over real HTTP to the emulator: client-credentials tokens are obtained once,
renewed before they expire, replaced once after a 401, shared by threads and clients, and never shown;
the mode comes from HSPC_HUBSPOT_AUTH or from the variables set, with errors that name them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.emulators.hubspot.app import HubSpotEmulator
from hspc_pipelines.hubspot.auth import (
    AuthMode,
    ClientCredentials,
    StaticToken,
    TokenRequestError,
    auth_mode,
    credentials_from_settings,
    shared_client_credentials,
)
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError
from hspc_pipelines.settings import SettingsError, load_settings

CLIENT_ID = "hspc-test-app-1f2e"
SECRET = "cs-0d9c8b7a-6f5e-4d3c-2b1a-secret"
TOKEN_ENDPOINT = "POST /oauth/v1/token"


class FakeClock:
    """The provider's clock, moved by the test (with the emulator's, so both agree on expiry)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now


@pytest.fixture
def hubspot() -> Iterator[tuple[HubSpotEmulator, str]]:
    emulator = HubSpotEmulator(access_tokens=("pat-static",), oauth_clients={CLIENT_ID: SECRET})
    with serve_in_thread(emulator.app) as server:
        yield emulator, server.url
    emulator.configure(clock_offset_seconds=0)


def _calls(emulator: HubSpotEmulator, endpoint: str, status: int) -> int:
    return emulator.stats()["by_endpoint_status"].get(endpoint, {}).get(str(status), 0)


def _client(url: str, provider: ClientCredentials) -> HubSpotClient:
    return HubSpotClient(base_url=url, credentials=provider, timeout=(2, 5), max_retries=0)


def test_a_token_is_obtained_once_and_renewed_before_it_expires(hubspot):
    emulator, url = hubspot
    emulator.configure(token_lifetime_seconds=100)
    clock = FakeClock()
    provider = ClientCredentials(CLIENT_ID, SECRET, url, clock=clock)
    hs = _client(url, provider)
    for _ in range(3):
        hs.list_pipelines()
    assert emulator.stats()["tokens_issued"] == 1
    first = provider.current()
    # 85 s into a 100 s token: inside the last fifth of its life, so the next call renews it first.
    clock.now += 85
    emulator.configure(clock_offset_seconds=85)
    hs.list_pipelines()
    assert emulator.stats()["tokens_issued"] == 2
    assert provider.current() != first
    # The old token would still have been accepted: renewal came before expiry, no call was refused.
    assert emulator.stats()["statuses"].get("401", 0) == 0


def test_a_401_gets_one_new_token_and_one_retry(hubspot):
    emulator, url = hubspot
    provider = ClientCredentials(CLIENT_ID, SECRET, url)
    hs = _client(url, provider)
    hs.list_pipelines()
    emulator.configure(revoke_tokens=True)  # HubSpot stops taking the cached token before it expires
    assert [p["id"] for p in hs.list_pipelines()] == ["default"]
    assert emulator.stats()["tokens_issued"] == 2
    assert _calls(emulator, "GET /crm/pipelines/2026-09/deals", 401) == 1
    assert _calls(emulator, "GET /crm/pipelines/2026-09/deals", 200) == 2


def test_tokens_refused_at_once_end_in_the_401_after_one_new_token_not_a_loop(hubspot):
    emulator, url = hubspot
    emulator.configure(token_lifetime_seconds=0)  # every token is expired when it arrives
    hs = _client(url, ClientCredentials(CLIENT_ID, SECRET, url))
    with pytest.raises(HubSpotError) as err:
        hs.list_pipelines()
    assert err.value.status == 401 and err.value.category == "EXPIRED_AUTHENTICATION"
    assert _calls(emulator, "GET /crm/pipelines/2026-09/deals", 401) == 2  # the call and its one retry
    # Each attempt renewed the (already stale) token, and the 401 one more: bounded, not a loop.
    assert emulator.stats()["tokens_issued"] == 3


def test_threads_starting_together_fetch_one_token(hubspot):
    emulator, url = hubspot
    provider = ClientCredentials(CLIENT_ID, SECRET, url)
    hs = _client(url, provider)
    barrier = threading.Barrier(8)

    def call(_: int) -> int:
        barrier.wait()
        return len(hs.list_pipelines())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(call, range(8)))
    assert emulator.stats()["tokens_issued"] == 1
    assert _calls(emulator, "GET /crm/pipelines/2026-09/deals", 200) == 8


def test_clients_of_one_app_in_a_process_share_one_provider(hubspot):
    emulator, url = hubspot
    first = shared_client_credentials(CLIENT_ID, SECRET, url)
    assert shared_client_credentials(CLIENT_ID, SECRET, url + "/") is first
    assert shared_client_credentials(CLIENT_ID, SECRET + "-other", url) is not first
    for provider in (first, shared_client_credentials(CLIENT_ID, SECRET, url)):
        _client(url, provider).list_pipelines()
    assert emulator.stats()["tokens_issued"] == first.fetches == 1


def test_the_secret_and_tokens_never_reach_logs_errors_or_reprs(hubspot, caplog):
    emulator, url = hubspot
    caplog.set_level(logging.DEBUG)
    good = ClientCredentials(CLIENT_ID, SECRET, url)
    hs = _client(url, good)
    hs.list_pipelines()
    tokens = [good.current()]
    emulator.configure(revoke_tokens=True)
    hs.list_pipelines()  # a 401, a new token, a retry: all logged
    tokens.append(good.current())
    assert tokens[0] != tokens[1]
    bad = ClientCredentials(CLIENT_ID, "wrong-" + SECRET, url)
    with pytest.raises(TokenRequestError) as err:
        bad.current()
    shown = "\n".join([caplog.text, str(err.value), repr(good), repr(bad), repr(hs)])
    assert SECRET not in shown
    assert all(t not in shown for t in tokens)
    assert "HUBSPOT_CLIENT_ID='hspc-test-app-1f2e'" in str(err.value)
    assert "HUBSPOT_CLIENT_SECRET" in str(err.value) and "BAD_CLIENT_SECRET" in str(err.value)
    assert "client-credentials token obtained" in caplog.text


def test_unknown_client_and_unconfigured_scope_are_refused_by_name(hubspot):
    _, url = hubspot
    with pytest.raises(TokenRequestError, match="BAD_CLIENT_ID"):
        ClientCredentials("nobody", SECRET, url).current()
    with pytest.raises(TokenRequestError, match="crm.objects.tickets.read") as err:
        ClientCredentials(CLIENT_ID, SECRET, url, scopes=("crm.objects.tickets.read",)).current()
    assert err.value.status == 400


def test_a_granted_answer_is_reported_without_the_token(hubspot):
    _, url = hubspot
    provider = ClientCredentials(CLIENT_ID, SECRET, url)
    info = _client(url, provider).token_info()
    assert "developer.webhooks_journal.read" in info["scopes"]
    assert info["expiresIn"] == 1800
    assert provider.current() not in str(info)


def test_a_service_key_is_a_bearer_token_without_introspection(hubspot):
    emulator, url = hubspot
    service = HubSpotEmulator(service_keys=("svc-key-1",))
    with serve_in_thread(service.app) as server:
        hs = HubSpotClient(base_url=server.url, credentials=StaticToken("svc-key-1", AuthMode.SERVICE_KEY))
        assert [p["id"] for p in hs.list_pipelines()] == ["default"]
        with pytest.raises(ValueError, match="no introspection for service keys"):
            hs.token_info()


# -- which mode ---------------------------------------------------------------------------------------

STATIC = {"HUBSPOT_ACCESS_TOKEN": "pat-na1-x"}
APP = {"HUBSPOT_CLIENT_ID": CLIENT_ID, "HUBSPOT_CLIENT_SECRET": SECRET}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        (STATIC, AuthMode.PRIVATE_APP),
        ({"HSPC_HUBSPOT_TOKEN_SSM_PARAMETER": "/hspc/token"}, AuthMode.PRIVATE_APP),
        (APP, AuthMode.CLIENT_CREDENTIALS),
        ({**STATIC, "HUBSPOT_CLIENT_SECRET": SECRET}, AuthMode.PRIVATE_APP),  # webhooks' secret only
        ({**STATIC, "HSPC_HUBSPOT_AUTH": "service_key"}, AuthMode.SERVICE_KEY),
        ({**STATIC, **APP, "HSPC_HUBSPOT_AUTH": "Client_Credentials"}, AuthMode.CLIENT_CREDENTIALS),
        ({**STATIC, **APP, "HSPC_HUBSPOT_AUTH": "private_app"}, AuthMode.PRIVATE_APP),
    ],
)
def test_the_mode_is_the_one_named_or_the_one_the_variables_imply(env, expected):
    assert auth_mode(load_settings(env)) == expected


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**STATIC, **APP}, ["ambiguous", "HUBSPOT_ACCESS_TOKEN", "HUBSPOT_CLIENT_ID", "HSPC_HUBSPOT_AUTH"]),
        ({"HUBSPOT_CLIENT_ID": CLIENT_ID}, ["client_credentials needs HUBSPOT_CLIENT_SECRET"]),
        (
            {"HSPC_HUBSPOT_AUTH": "client_credentials"},
            ["needs HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET"],
        ),
        (
            {**APP, "HSPC_HUBSPOT_AUTH": "service_key"},
            ["service_key needs HUBSPOT_ACCESS_TOKEN", "service key"],
        ),
        ({"HSPC_HUBSPOT_AUTH": "private_app"}, ["HSPC_HUBSPOT_TOKEN_SSM_PARAMETER", "private app token"]),
    ],
)
def test_an_ambiguous_or_incomplete_choice_names_the_variables(env, named):
    with pytest.raises(SettingsError) as err:
        auth_mode(load_settings(env))
    assert all(n in str(err.value) for n in named), str(err.value)
    assert SECRET not in str(err.value) and "pat-na1-x" not in str(err.value)


def test_an_unknown_mode_is_refused_with_what_is_allowed():
    with pytest.raises(SettingsError, match=r"HSPC_HUBSPOT_AUTH='oauth' .* private_app, client_credentials"):
        load_settings({"HSPC_HUBSPOT_AUTH": "oauth"})


def test_from_env_builds_the_credential_the_settings_name(monkeypatch, hubspot):
    emulator, url = hubspot
    for key in ("HUBSPOT_ACCESS_TOKEN", "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER", "HSPC_HUBSPOT_AUTH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HUBSPOT_BASE_URL", url)
    for key, value in APP.items():
        monkeypatch.setenv(key, value)
    hs = HubSpotClient.from_env()
    assert hs.credentials.mode is AuthMode.CLIENT_CREDENTIALS
    assert [p["id"] for p in hs.list_pipelines()] == ["default"]
    monkeypatch.delenv("HUBSPOT_CLIENT_SECRET")
    with pytest.raises(ValueError, match="HUBSPOT_CLIENT_SECRET"):
        HubSpotClient.from_env()
    with pytest.raises(SettingsError, match="no HubSpot credentials"):
        credentials_from_settings(load_settings({}))


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[HubSpotEmulator, str]]:
    emulator = HubSpotEmulator(oauth_clients={CLIENT_ID: SECRET})
    with serve_in_thread(emulator.app) as server:
        yield emulator, server.url
    emulator.configure(clock_offset_seconds=0)


@settings(max_examples=40, deadline=None)
@given(lifetime=st.integers(min_value=1, max_value=7_200), share=st.floats(min_value=0, max_value=1.5))
def test_a_token_is_renewed_before_it_expires_and_not_long_before(portal, lifetime, share):
    """Whatever the lifetime HubSpot gives and however long after it the next call comes: the call is
    never refused for an expired token, and the token is kept while more than five minutes (or a fifth
    of its life) are left."""
    emulator, url = portal
    emulator.configure(token_lifetime_seconds=lifetime, clock_offset_seconds=0)
    clock = FakeClock()
    hs = _client(url, ClientCredentials(CLIENT_ID, SECRET, url, clock=clock))
    hs.list_pipelines()
    issued, refused = emulator.stats()["tokens_issued"], emulator.stats()["statuses"].get("401", 0)
    elapsed = lifetime * share
    clock.now += elapsed
    emulator.configure(clock_offset_seconds=elapsed)
    hs.list_pipelines()
    assert emulator.stats()["statuses"].get("401", 0) == refused
    renewed = emulator.stats()["tokens_issued"] - issued
    if lifetime - elapsed > min(300, lifetime / 5):
        assert renewed == 0
    if elapsed >= lifetime:
        assert renewed == 1


def test_config_check_refuses_ambiguous_credentials_by_name(monkeypatch, capsys):
    from hspc_pipelines.cli import main

    for key in ("HSPC_HUBSPOT_AUTH", "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {**STATIC, **APP}.items():
        monkeypatch.setenv(key, value)
    assert main(["config", "--check"]) == 2
    err = capsys.readouterr().err
    assert "ambiguous" in err and "HSPC_HUBSPOT_AUTH" in err and SECRET not in err
    monkeypatch.setenv("HSPC_HUBSPOT_AUTH", "client_credentials")
    assert main(["config", "--check"]) == 0
