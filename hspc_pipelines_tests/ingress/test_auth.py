"""Who may call the ingress (issue 20): every route enumerated from the app, hostile requests refused,
nothing queued (moto SQS), nothing secret logged; tokens rotated in moto's SSM without a restart."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from fastapi.routing import APIRoute

from hspc_pipelines.ingress.app import create_app
from hspc_pipelines.ingress.auth import PUBLIC_PATHS, FailureLimiter
from hspc_pipelines.ingress.cli import DropQueryString
from hspc_pipelines.ingress.settings import IngressConfigError, IngressSettings
from hspc_pipelines.ingress.tokens import TokenConfigError, TokenSource, match_token, parse_tokens, token_id
from hspc_pipelines_tests.support.ingress import SECRET, ListSource, signed_headers

OLD = "old-token-0f3b9a1c77d24e51"
NEW = "new-token-8c2e4d6f01a3b5c7"
SOLUTION = {"Id": "S-0000001", "Name": "Data platform", "Category": "Software Product", "Status": "Active"}
UNLIMITED = 1_000_000


def ssm_client(moto_url: str) -> Any:
    return boto3.client(
        "ssm",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # moto builds its SSM backend (AWS's public parameters) on first use: slow on a busy machine.
        config=Config(
            connect_timeout=5, read_timeout=60, retries={"mode": "standard", "total_max_attempts": 2}
        ),
    )


@pytest.fixture
def ssm(moto_url: str) -> tuple[Any, str]:
    client = ssm_client(moto_url)
    name = f"/hspc/ingress/api-token-{uuid.uuid4().hex[:8]}"
    client.put_parameter(Name=name, Value=f"old:{OLD}", Type="SecureString")
    return client, name


def rotate(ssm: tuple[Any, str], value: str) -> None:
    client, name = ssm
    client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def calls(app: Any) -> list[tuple[str, str]]:
    """(method, concrete path) of every route the app has, path parameters filled in: a route added
    later is in this list without anyone touching the test."""
    out = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            path = re.sub(r"\{[^}]+\}", lambda m: _sample(m.group(0)), route.path)
            out += [(method, path) for method in sorted(route.methods or ())]
    return out


def _sample(parameter: str) -> str:
    """A well-formed value for a path parameter, so a refusal is the authentication's, not validation's."""
    name = parameter.lower()
    if "solution" in name:
        return "S-0000001"
    if "request" in name:
        return "00000000-0000-0000-0000-000000000001"
    return "1"


def protected_calls(app: Any) -> list[tuple[str, str]]:
    return [(m, p) for m, p in calls(app) if p not in PUBLIC_PATHS]


def _send(http: requests.Session, url: str, method: str, path: str, **kw: Any) -> requests.Response:
    body = b'{"dealId": "1"}' if method == "POST" else None
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return http.request(method, url + path, data=body, headers=headers, timeout=10, **kw)


def test_the_routes_open_without_a_token_are_exactly_the_signed_webhooks_and_healthz(make_ingress) -> None:
    app = create_app(IngressSettings(client_secret=SECRET, api_token=NEW), solutions_source=ListSource([]))
    paths = {p for _, p in calls(app)}
    assert {"/healthz", "/webhook/hubspot", "/webhook/deal-update"} == PUBLIC_PATHS and paths >= PUBLIC_PATHS
    # The enumeration sees the authenticated routes too (a broken enumeration would make the test below vacuous).
    assert {
        "/submit-opportunity",
        "/solutions",
        "/solutions/search",
        "/solutions/S-0000001",
        "/openapi.json",
    } <= {p for _, p in protected_calls(app)}
    document = app.openapi()
    assert document["security"] == [{"bearer": []}]
    for path, item in document["paths"].items():
        for operation in item.values():
            if path in PUBLIC_PATHS:
                assert operation["security"] == []
            else:
                assert {"401", "429"} <= set(operation["responses"]), path


def test_hostile_requests_on_every_route_are_refused_nothing_queued_nothing_secret_logged(
    make_ingress, ssm, caplog: pytest.LogCaptureFixture
) -> None:
    # The product's and the server's loggers at every level. (botocore's own DEBUG log prints SSM's
    # answers, token included: docs/security.md says never to run botocore at DEBUG in production.)
    for logger in ("hspc_pipelines", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=logger)
    client, name = ssm
    ingress = make_ingress(
        tokens_ssm_parameter=name,
        token_refresh_seconds=0,
        ssm=client,
        solutions=ListSource([SOLUTION]),
        limiter=FailureLimiter(max_failures=UNLIMITED),
    )
    app = create_app(IngressSettings(client_secret=SECRET, api_token=NEW), solutions_source=ListSource([]))
    routes = protected_calls(app)
    http = requests.Session()
    # Before the rotation the old token works on a read-only route (the control: refusals below are
    # about the token, not a broken route).
    ok = _send(http, ingress.url, "GET", "/solutions", headers={"Authorization": f"Bearer {OLD}"})
    assert ok.status_code == 200, ok.text
    rotate(ssm, f"new:{NEW}")  # the old token is gone: no restart, the next request reads SSM again
    hostile: dict[str, dict[str, Any]] = {
        "no token": {},
        "wrong token": {"headers": {"Authorization": f"Bearer {NEW[:-1]}x"}},
        "old token after rotation": {"headers": {"Authorization": f"Bearer {OLD}"}},
        "token in the query string": {"params": {"access_token": NEW}},
        "token in the query string too": {
            "params": {"token": NEW},
            "headers": {"Authorization": f"Bearer {NEW}"},
        },
        "basic scheme": {"headers": {"Authorization": f"Basic {NEW}"}},
        "oversized Authorization": {"headers": {"Authorization": f"Bearer {NEW}" + "A" * 70_000}},
        "oversized other header": {"headers": {"X-Padding": "p" * 70_000}},
    }
    refused: dict[str, set[int]] = {}
    for label, request in hostile.items():
        for method, path in routes:
            response = _send(http, ingress.url, method, path, **request)
            assert response.status_code in (400, 401, 405, 431), (label, method, path, response.status_code)
            assert OLD not in response.text and NEW not in response.text
            refused.setdefault(label, set()).add(response.status_code)
    # Refused by the authentication itself (not by some other check that would hide a hole), except
    # the oversized headers, which the server may refuse before the app sees them.
    for label in hostile:
        assert refused[label] <= ({400, 401, 431} if "oversized" in label else {401}), (label, refused[label])
    assert ingress.queue.depth() == 0 and ingress.queue.drain() == []
    # The new token is taken without a restart, on every route that answers GET.
    for method, path in routes:
        if method == "GET" and path != "/solutions/search":
            answer = _send(http, ingress.url, method, path, headers={"Authorization": f"Bearer {NEW}"})
            # accepted: the route answers (200, or 404/503 for a request or deal the state has not seen)
            assert answer.status_code in (200, 404, 503), (path, answer.text)
    ours = [r for r in caplog.records if r.name.startswith(("hspc_pipelines", "uvicorn"))]
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in ours)
    assert "refused" in logged  # the refusals are logged...
    assert OLD not in logged and NEW not in logged and SECRET not in logged  # ...and no token is


def test_refusals_are_401_with_a_message_that_names_nothing_secret(make_ingress) -> None:
    ingress = make_ingress(api_tokens=parse_tokens(f"ci:{NEW}", "test"))
    response = requests.post(ingress.url + "/submit-opportunity", json={"dealId": "1"}, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "a valid bearer token is required"}
    assert response.headers["www-authenticate"] == "Bearer"
    assert ingress.queue.depth() == 0


def test_a_submit_request_carries_the_id_of_its_token_never_the_token(make_ingress) -> None:
    ingress = make_ingress(api_tokens=parse_tokens(f"crm-button:{NEW}, {OLD}", "test"))
    for token in (NEW, OLD):
        response = requests.post(
            ingress.url + "/submit-opportunity",
            json={"dealId": "7"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 202, response.text
    bodies = [m["Body"] for m in ingress.queue.drain()]
    assert len(bodies) == 2 and not any(NEW in b or OLD in b for b in bodies)
    assert {re.search(r'"requested_by":"([^"]+)"', b).group(1) for b in bodies} == {  # type: ignore[union-attr]
        "api-token:crm-button",
        f"api-token:{token_id(OLD)}",
    }


def test_repeated_failures_from_one_client_get_429_with_retry_after(make_ingress) -> None:
    ingress = make_ingress(api_token=NEW, limiter=FailureLimiter(max_failures=3, window_seconds=60))
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    statuses = [
        requests.get(ingress.url + "/solutions", headers=wrong, timeout=10).status_code for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
    blocked = requests.get(ingress.url + "/solutions", headers={"Authorization": f"Bearer {NEW}"}, timeout=10)
    # Blocked before the token is compared: a guess that happens to be right tells the caller nothing.
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["retry-after"]) <= 60
    assert blocked.json() == {"error": "too many failed authentications; retry later"}
    # The signed webhooks and /healthz stay reachable (HubSpot's retries do not depend on this client).
    assert requests.get(ingress.url + "/healthz", timeout=10).status_code == 200


def test_the_failure_window_slides() -> None:
    now = [0.0]
    limiter = FailureLimiter(max_failures=2, window_seconds=10, max_clients=2, clock=lambda: now[0])
    limiter.fail("a")
    now[0] = 4
    limiter.fail("a")
    assert limiter.retry_after("a") == pytest.approx(6)
    now[0] = 10.5  # the first failure left the window
    assert limiter.retry_after("a") is None
    limiter.fail("b")
    limiter.fail("c")  # over max_clients: the oldest client ("a") is forgotten
    assert limiter.retry_after("a") is None and len(limiter._failures) == 2


def test_the_ingress_refuses_to_start_without_tokens_unless_auth_is_off(caplog) -> None:
    with pytest.raises(IngressConfigError, match="no bearer token is configured"):
        IngressSettings(client_secret=SECRET)
    caplog.set_level(logging.WARNING)
    for _ in range(2):  # every start says so
        create_app(IngressSettings(client_secret=SECRET, auth_enabled=False), solutions_source=ListSource([]))
    warnings = [r for r in caplog.records if "authentication is OFF" in r.getMessage()]
    assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)


def test_with_auth_off_routes_answer_and_submit_requests_say_so(make_ingress) -> None:
    ingress = make_ingress(auth_enabled=False, solutions=ListSource([SOLUTION]))
    assert requests.get(ingress.url + "/solutions", timeout=10).status_code == 200
    response = requests.post(ingress.url + "/submit-opportunity", json={"dealId": "3"}, timeout=10)
    assert response.status_code == 202
    assert '"requested_by":"api-token:auth-off"' in ingress.queue.drain()[0]["Body"]


def test_a_missing_ssm_parameter_stops_the_start(moto_url: str) -> None:
    settings = IngressSettings(client_secret=SECRET, tokens_ssm_parameter="/hspc/nope")
    with pytest.raises(IngressConfigError, match="/hspc/nope.*ParameterNotFound"):
        create_app(settings, ssm_client=ssm_client(moto_url), solutions_source=ListSource([]))


def test_ssm_and_fixed_tokens_together_are_refused() -> None:
    with pytest.raises(IngressConfigError, match="set only one"):
        IngressSettings(client_secret=SECRET, api_token=NEW, tokens_ssm_parameter="/hspc/t")


def test_an_ssm_outage_keeps_the_tokens_last_read(make_ingress, ssm, caplog) -> None:
    client, name = ssm
    ingress = make_ingress(tokens_ssm_parameter=name, token_refresh_seconds=0, ssm=client)
    client.delete_parameter(Name=name)  # every re-read fails from now on
    response = requests.get(
        ingress.url + "/openapi.json", headers={"Authorization": f"Bearer {OLD}"}, timeout=10
    )
    assert response.status_code == 200
    assert any("not refreshed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("short", "entry 1 has a token of 5 characters"),
        (f"a:{NEW}, a:{OLD}", "appear twice"),
        (" , ", "holds no token"),
        (f"{NEW} with-space", "printable ASCII without spaces"),
    ],
)
def test_token_lists_are_checked_without_showing_a_token(text: str, needle: str) -> None:
    with pytest.raises(TokenConfigError, match=needle) as info:
        parse_tokens(text, "HSPC_INGRESS_API_TOKENS")
    assert NEW not in str(info.value) and OLD not in str(info.value) and "short" not in str(info.value)


def test_tokens_match_exactly() -> None:
    tokens = parse_tokens(f"new:{NEW},{OLD}", "test")
    assert [t.id for t in tokens] == ["new", token_id(OLD)]
    assert match_token(NEW.encode(), tokens) == tokens[0] and match_token(OLD.encode(), tokens) == tokens[1]
    for near in (NEW[:-1], NEW + "x", NEW.upper(), b"".decode()):
        assert match_token(near.encode(), tokens) is None
    assert NEW not in repr(tokens)


def test_the_access_log_drops_query_strings() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", f"/solutions?access_token={NEW}&limit=1", "1.1", 401), None,
    )  # fmt: skip
    assert DropQueryString().filter(record)
    assert record.getMessage() == '1.2.3.4:5 - "GET /solutions HTTP/1.1" 401'


class SlowSsm:
    """An SSM client whose answer waits for `release` (a slow or throttled SSM)."""

    def __init__(self, value: str) -> None:
        self.value, self.release, self.calls = value, threading.Event(), 0

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        self.calls += 1
        if self.calls > 1:
            assert self.release.wait(10)
        return {"Parameter": {"Value": self.value}}


def test_while_one_request_re_reads_ssm_the_others_use_the_tokens_last_read() -> None:
    ssm = SlowSsm(f"old:{OLD}")
    source = TokenSource(parameter="/p", ssm_client=ssm, refresh_seconds=0)
    assert [t.id for t in source.load()] == ["old"]
    ssm.value = f"new:{NEW}"
    with ThreadPoolExecutor(2) as pool:
        refreshing = pool.submit(source.current)  # blocks inside SSM until released
        for _ in range(1000):  # until the refreshing thread is inside SSM
            if ssm.calls >= 2:
                break
            time.sleep(0.01)
        assert ssm.calls == 2 and not refreshing.done()
        assert [t.id for t in source.current()] == ["old"]  # not queued behind the slow read
        ssm.release.set()
        assert [t.id for t in refreshing.result(10)] == ["new"]
    assert [t.id for t in source.tokens] == ["new"]


def test_signed_webhooks_and_healthz_need_no_token(make_ingress) -> None:
    ingress = make_ingress(api_token=NEW)
    body = json.dumps(
        [{"objectId": 5, "subscriptionType": "deal.creation", "eventId": 1, "occurredAt": 1}]
    ).encode()
    for path in ("/webhook/hubspot", "/webhook/deal-update"):
        url = ingress.url + path
        response = requests.post(
            url, data=body, headers=signed_headers(url, body), timeout=10
        )  # no Authorization
        assert response.status_code == 200, response.text
    assert requests.get(ingress.url + "/healthz", timeout=10).status_code == 200
    assert ingress.queue.depth() == 2
