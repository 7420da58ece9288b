"""HubSpotClient over real HTTP: throwaway starlette apps for limits and faults, the emulator for the CRM.

Each throwaway app records the requests it saw, so the tests assert on what went over the wire
(how many attempts, how far apart), not on what the client says about itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError, RateLimitExhausted, SearchLimitExceeded
from hspc_pipelines.hubspot.search import epoch_ms

TOKEN = "pat-na1-secret-token-0123456789"


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[float, str, str, Any]] = []

    def add(self, method: str, path: str, body: Any) -> int:
        with self.lock:
            self.seen.append((time.monotonic(), method, path, body))
            return len(self.seen)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        with self.lock:
            return sum(
                1
                for _, m, p, _ in self.seen
                if (method is None or m == method) and (path is None or p == path)
            )


Handler = Callable[[Request, Any, int], Any]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], tuple[str, Recorder]]]:
    """serve(handler) -> (url, recorder); handler(request, json_body, attempt_number) -> Response."""
    running = []

    def start(handler: Handler) -> tuple[str, Recorder]:
        recorder = Recorder()

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            body = await request.json() if raw else None
            n = recorder.add(request.method, request.url.path, body)
            result = handler(request, body, n)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PATCH", "DELETE"])])
        server = serve_in_thread(app)
        running.append(server)
        return server.url, recorder

    yield start
    for server in running:
        server.stop()


def client(url: str, **kw: Any) -> HubSpotClient:
    kw.setdefault("timeout", (2, 5))
    return HubSpotClient(TOKEN, url, **kw)


def ok(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body if body is not None else {"results": []}, status_code=status, headers=headers)


def too_many(policy: str = "TEN_SECONDLY_ROLLING", headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": "c-429",
            "policyName": policy,
        },
        status_code=429,
        headers=headers,
    )


# -- retries ------------------------------------------------------------------------------------


def test_429_honours_retry_after_then_succeeds(serve):
    url, rec = serve(lambda r, b, n: too_many(headers={"Retry-After": "1"}) if n == 1 else ok({"id": "1"}))
    hs = client(url)
    started = time.monotonic()
    assert hs.get_object("deals", "1")["id"] == "1"
    assert time.monotonic() - started >= 0.95
    assert rec.count() == 2
    assert hs.stats.calls["GET /crm/objects/2026-09/{object_type}/{object_id}"] == 1
    assert hs.stats.retries["GET /crm/objects/2026-09/{object_type}/{object_id}"] == 1
    # the 429 counts as a throttling answer although urllib3 retried it and the call succeeded
    assert hs.stats.throttled["GET /crm/objects/2026-09/{object_type}/{object_id}"] == 1
    assert hs.stats.snapshot()["throttled"] == 1


def test_5xx_on_post_read_endpoints_is_retried(serve):
    def handler(r: Request, body: Any, n: int) -> Response:
        if n <= 2:
            return ok({"message": "boom"}, status=502)
        return ok(
            {"status": "COMPLETE", "results": [{"id": i["id"], "properties": {}} for i in body["inputs"]]}
        )

    url, rec = serve(handler)
    result = client(url).batch_read("deals", ["1", "2"], ["dealname"])
    assert [o["id"] for o in result.results] == ["1", "2"] and result.ok
    assert rec.count("POST", "/crm/objects/2026-09/deals/batch/read") == 3


def test_create_is_not_repeated_after_5xx_but_is_after_429(serve):
    def handler(r: Request, body: Any, n: int) -> Response:
        if r.url.path.endswith("/batch/create"):
            return ok({"message": "upstream timeout"}, status=503)
        if n == 2:
            return too_many(headers={"Retry-After": "0"})
        return ok({"id": "9", "properties": body["properties"]}, status=201)

    url, rec = serve(handler)
    hs = client(url)
    result = hs.batch_create(
        "notes", [{"properties": {"hs_note_body": "a"}}, {"properties": {"hs_note_body": "b"}}]
    )
    assert (
        rec.count("POST", "/crm/objects/2026-09/notes/batch/create") == 1
    )  # a repeat could have created twice
    assert sorted(result.failed_positions()) == [0, 1]
    assert "may or may not have created" in result.errors[0].message
    assert result.errors[0].input == {"properties": {"hs_note_body": "a"}}

    # request 2 is a 429 (HubSpot did nothing): the single create is repeated once and succeeds
    assert hs.create_object("deals", {"dealname": "x"})["id"] == "9"
    assert rec.count("POST", "/crm/objects/2026-09/deals") == 2


def test_create_is_not_repeated_after_a_read_timeout_but_gets_are(serve):
    async def slow(r: Request, body: Any, n: int) -> Response:
        await asyncio.sleep(1.5)
        return ok({"id": "1"})

    url, rec = serve(slow)
    hs = client(url, timeout=(1, 0.3), max_retries=2)
    with pytest.raises(HubSpotError) as err:
        hs.create_object("deals", {"dealname": "x"})
    assert err.value.status == 0 and err.value.category == "CONNECTION"
    assert rec.count("POST") == 1
    with pytest.raises(HubSpotError):
        hs.get_object("deals", "1")
    assert rec.count("GET") == 3  # first try + max_retries


def test_daily_limit_stops_at_once_with_a_clear_error(serve):
    def handler(r: Request, body: Any, n: int) -> Response:
        if r.url.path.endswith("/1"):  # DAILY with the daily header
            return too_many("DAILY", {"X-HubSpot-RateLimit-Daily-Remaining": "0"})
        return too_many("DAILY", {"Retry-After": "36000"})  # DAILY told only by a long Retry-After

    url, rec = serve(handler)
    hs = client(url)
    started = time.monotonic()
    for object_id in ("1", "2"):
        with pytest.raises(RateLimitExhausted) as err:
            hs.get_object("deals", object_id)
        assert "daily API limit" in str(err.value) and err.value.policy == "DAILY"
    assert rec.count() == 2 and time.monotonic() - started < 3


def test_errors_carry_hubspot_fields_and_never_the_token(serve):
    url, _ = serve(
        lambda r, b, n: ok(
            {
                "status": "error",
                "category": "INVALID_AUTHENTICATION",
                "message": f"token {TOKEN} is expired",
                "correlationId": "abc-1",
            },
            401,
        )
    )
    hs = client(url)
    with pytest.raises(HubSpotError) as err:
        hs.get_object("deals", "1")
    e = err.value
    assert (e.status, e.category, e.correlation_id) == (401, "INVALID_AUTHENTICATION", "abc-1")
    assert TOKEN not in str(e) and TOKEN not in repr(e) and "***" in str(e)
    assert TOKEN not in repr(hs)


def test_token_travels_as_bearer_header(serve):
    seen = []

    def handler(r: Request, body: Any, n: int) -> Response:
        seen.append(r.headers.get("authorization"))
        return ok({"id": "1"})

    url, _ = serve(handler)
    client(url).get_object("deals", "1")
    assert seen == [f"Bearer {TOKEN}"]


# -- pacing -------------------------------------------------------------------------------------


def rolling_limit(limit: int, period_s: float, on_ok: Callable[[Request, Any], Response]) -> Handler:
    """A server enforcing `limit` per rolling `period_s` the way HubSpot does, with its headers."""
    stamps: list[float] = []
    lock = threading.Lock()

    def handler(r: Request, body: Any, n: int) -> Response:
        with lock:
            now = time.monotonic()
            stamps[:] = [s for s in stamps if s > now - period_s]
            if len(stamps) >= limit:
                return too_many(headers={"Retry-After": "1"})
            stamps.append(now)
            remaining = limit - len(stamps)
        headers = {
            "X-HubSpot-RateLimit-Max": str(limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(period_s * 1000)),
        }
        response = on_ok(r, body)
        response.headers.update(headers)
        return response

    return handler


def test_pacer_adapts_to_the_servers_headers_and_avoids_429s(serve):
    url, rec = serve(rolling_limit(5, 1.0, lambda r, b: ok({"id": "1"})))
    hs = client(url, requests_per_10s=190)
    hs.get_object("deals", "1")  # teaches the client: 5 per 1,000 ms
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [hs.get_object("deals", "1") for _ in range(4)]) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hs.stats.statuses[429] == 0 and hs.stats.statuses[200] == 13
    assert time.monotonic() - started >= 1.9  # 13 requests at 5 per second need three windows
    assert rec.count() == 13


def test_pacer_counts_quota_used_by_someone_else(serve):
    """The server reports fewer remaining requests than this client sent: the client slows down."""
    calls = []

    def handler(r: Request, body: Any, n: int) -> Response:
        calls.append(time.monotonic())
        # another process already spent most of a 10-per-second quota
        return ok(
            {"id": "1"},
            headers={
                "X-HubSpot-RateLimit-Max": "10",
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "1000",
            },
        )

    url, _ = serve(handler)
    hs = client(url)
    for _ in range(3):
        hs.get_object("deals", "1")
    assert calls[2] - calls[0] >= 1.8  # each answer said "0 left": wait out the window each time


def test_search_has_its_own_limit(serve):
    url, rec = serve(lambda r, b, n: ok({"total": 0, "results": []}))
    hs = client(url, search_per_second=4)
    started = time.monotonic()
    for _ in range(9):
        list(hs.search_objects("deals", [{"filters": []}], ["dealname"]))
    assert time.monotonic() - started >= 1.9  # 4 + 4 + 1
    started = time.monotonic()
    for _ in range(9):
        hs.get_object("deals", "1")
    assert time.monotonic() - started < 1.0  # other calls are not held back by the search limit


# -- batches ------------------------------------------------------------------------------------


def test_batch_update_splits_in_hundreds_and_returns_207_failures_by_id(serve):
    def handler(r: Request, body: Any, n: int) -> Response:
        inputs = body["inputs"]
        assert len(inputs) <= 100
        missing = [i["id"] for i in inputs if int(i["id"]) % 50 == 0]
        results = [{"id": i["id"], "properties": i["properties"]} for i in inputs if i["id"] not in missing]
        errors = (
            [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Object not found",
                    "context": {"ids": missing},
                }
            ]
            if missing
            else []
        )
        return ok({"status": "COMPLETE", "results": results, "errors": errors}, status=207 if errors else 200)

    url, rec = serve(handler)
    inputs = [{"id": str(i), "properties": {"amount": str(i)}} for i in range(1, 251)]
    result = client(url).batch_update("deals", inputs)
    assert rec.count("POST", "/crm/objects/2026-09/deals/batch/update") == 3
    assert len(result.results) == 245
    assert sorted(result.failed_ids(), key=int) == ["50", "100", "150", "200", "250"]
    assert result.errors[0].input == {"id": "50", "properties": {"amount": "50"}}
    assert result.errors[0].status == 404


def test_one_bad_input_in_a_rejected_chunk_is_isolated(serve):
    def handler(r: Request, body: Any, n: int) -> Response:
        if any(i["properties"].get("aws_stage") == "Nope" for i in body["inputs"]):
            return ok(
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid: aws_stage=Nope",
                },
                status=400,
            )
        return ok(
            {
                "status": "COMPLETE",
                "results": [
                    {
                        "id": str(1000 + int(i["objectWriteTraceId"])),
                        "objectWriteTraceId": i["objectWriteTraceId"],
                        "properties": i["properties"],
                    }
                    for i in body["inputs"]
                ],
            },
            status=201,
        )

    url, rec = serve(handler)
    inputs = [
        {"properties": {"dealname": f"d{i}", "aws_stage": "Nope" if i == 37 else "Prospect"}}
        for i in range(64)
    ]
    result = client(url).batch_create("deals", inputs)
    assert len(result.results) == 63
    assert list(result.failed_positions()) == [37]
    assert "aws_stage=Nope" in result.failed_positions()[37]
    assert result.errors[0].input == inputs[37]
    assert rec.count() <= 1 + 2 * 6  # halving: at most two calls per level


def test_a_400_naming_the_bad_input_costs_one_more_call(serve):
    def handler(r: Request, body: Any, n: int) -> Response:
        for index, item in enumerate(body["inputs"]):
            if item["properties"].get("amount") == "lots":
                return ok(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": "amount: not a number",
                        "context": {"index": [str(index)]},
                    },
                    status=400,
                )
        return ok({"status": "COMPLETE", "results": [{"id": i["id"]} for i in body["inputs"]]})

    url, rec = serve(handler)
    inputs = [{"id": str(i), "properties": {"amount": "lots" if i in (5, 77) else "1"}} for i in range(100)]
    result = client(url).batch_update("deals", inputs)
    assert result.failed_ids() == {
        "5": "HTTP 400 VALIDATION_ERROR: amount: not a number",
        "77": "HTTP 400 VALIDATION_ERROR: amount: not a number",
    }
    assert len(result.results) == 98 and rec.count() == 3


def test_a_400_every_input_shares_does_not_cost_two_calls_per_input(serve):
    url, rec = serve(
        lambda r, b, n: ok(
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": "Property aws_stage does not exist",
            },
            status=400,
        )
    )
    inputs = [{"id": str(i), "properties": {"aws_stage": "Prospect"}} for i in range(300)]
    result = client(url).batch_update("deals", inputs)
    assert len(result.errors) == 300 and not result.results
    assert rec.count() <= 3 + 16 + 30 + 2  # three chunks plus the isolation budget


def test_create_207_errors_are_pinned_by_trace_id(serve):
    def handler(r: Request, body: Any, n: int) -> Response:
        good = [i for i in body["inputs"] if i["properties"]["hs_note_body"] != "bad"]
        bad = [i["objectWriteTraceId"] for i in body["inputs"] if i["properties"]["hs_note_body"] == "bad"]
        return ok(
            {
                "status": "COMPLETE",
                "results": [{"id": "1", "objectWriteTraceId": i["objectWriteTraceId"]} for i in good],
                "errors": [
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": "bad body",
                        "context": {"objectWriteTraceId": [t]},
                    }
                    for t in bad
                ],
            },
            status=207,
        )

    url, _ = serve(handler)
    notes = [{"properties": {"hs_note_body": b}} for b in ("ok", "bad", "ok", "bad")]
    result = client(url).batch_create("notes", notes)
    assert result.failed_positions() == {
        1: "HTTP 400 VALIDATION_ERROR: bad body",
        3: "HTTP 400 VALIDATION_ERROR: bad body",
    }


# -- search windows -----------------------------------------------------------------------------

BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def search_server(stamps_ms: list[int], calls: list[tuple[int, int]]) -> Handler:
    """HubSpot's search over hs_lastmodifieddate: GTE/LT filters, ascending sort, 400 past 10,000."""

    def handler(r: Request, body: Any, n: int) -> Response:
        filters = body["filterGroups"][0]["filters"]
        lo = next(int(f["value"]) for f in filters if f["operator"] == "GTE")
        hi = next(int(f["value"]) for f in filters if f["operator"] == "LT")
        after = int(body.get("after") or 0)
        if after + body["limit"] > 10_000:
            return ok(
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "Search results are limited to 10,000",
                },
                status=400,
            )
        calls.append((lo, hi))
        hits = [(s, i) for i, s in enumerate(stamps_ms) if lo <= s < hi]
        page = hits[after : after + body["limit"]]
        out: dict[str, Any] = {
            "total": len(hits),
            "results": [{"id": str(i), "properties": {"hs_lastmodifieddate": str(s)}} for s, i in page],
        }
        if after + len(page) < len(hits):
            out["paging"] = {"next": {"after": str(after + len(page))}}
        return ok(out)

    return handler


def test_search_modified_between_splits_windows_past_10000(serve):
    start_ms = epoch_ms(BASE)
    stamps = sorted(start_ms + (i * 7919) % 3_600_000 for i in range(23_000))
    calls: list[tuple[int, int]] = []
    url, _ = serve(search_server(stamps, calls))
    hs = client(url, requests_per_10s=5000, search_per_second=200)
    found = list(hs.search_modified_between("deals", BASE, BASE + dt.timedelta(hours=1), ["dealname"]))
    assert len(found) == 23_000 and len({o["id"] for o in found}) == 23_000
    modified = [int(o["properties"]["hs_lastmodifieddate"]) for o in found]
    assert modified == sorted(modified)
    assert all(hs.stats.statuses[s] == 0 for s in (400, 429))
    # at most 10,000 in any window that was paged: 23,000 fits in 4 quarters of the hour
    assert len({c for c in calls}) <= 8


def test_search_objects_refuses_to_page_past_the_cap(serve):
    stamps = [epoch_ms(BASE)] * 10_050
    url, _ = serve(search_server(stamps, []))
    hs = client(url, requests_per_10s=5000, search_per_second=200)
    filters = [
        {
            "filters": [
                {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"},
                {"propertyName": "hs_lastmodifieddate", "operator": "LT", "value": str(2**45)},
            ]
        }
    ]
    with pytest.raises(SearchLimitExceeded, match="at most 10000"):
        list(hs.search_objects("deals", filters))
    with pytest.raises(SearchLimitExceeded, match="share hs_lastmodifieddate"):
        list(hs.search_modified_between("deals", BASE, BASE + dt.timedelta(seconds=1)))


def test_filter_limits_are_checked_before_calling(serve):
    url, rec = serve(lambda r, b, n: ok())
    hs = client(url)
    groups = [
        {"filters": [{"propertyName": "dealname", "operator": "EQ", "value": str(i)}]} for i in range(6)
    ]
    with pytest.raises(ValueError, match="5 filter groups"):
        list(hs.search_modified_between("deals", BASE, BASE + dt.timedelta(days=1), extra_filters=groups))
    assert rec.count() == 0


def test_from_env_reads_token_url_and_limits(monkeypatch, serve):
    url, _ = serve(lambda r, b, n: ok({"id": "1"}))
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HUBSPOT_BASE_URL", url)
    monkeypatch.setenv("HSPC_HUBSPOT_REQUESTS_PER_10S", "50")
    monkeypatch.setenv("HSPC_HUBSPOT_SEARCH_PER_SECOND", "2")
    hs = HubSpotClient.from_env()
    assert hs.base_url == url and hs.pacer.general.limit == 50 and hs.pacer.search.limit == 2
    assert hs.get_object("deals", "1")["id"] == "1"
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    with pytest.raises(ValueError, match="HUBSPOT_ACCESS_TOKEN"):
        HubSpotClient.from_env()


# -- against the HubSpot emulator ---------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[Any]:
    from hspc_pipelines.emulators.hubspot import start_hubspot_emulator

    emu, server = start_hubspot_emulator(access_tokens=[TOKEN])
    cast(Any, emu).url = server.url  # the tests reach the emulator's URL through it
    yield emu
    server.stop()


def seed_deals(
    emu: Any, n: int, start: dt.datetime = BASE, spread: dt.timedelta = dt.timedelta(hours=1)
) -> list[str]:
    step = spread / n
    deals = [
        {
            "properties": {
                "dealname": f"Deal {i} #AWS",
                "amount": str(i),
                "hs_lastmodifieddate": (start + step * i).isoformat().replace("+00:00", "Z"),
            }
        }
        for i in range(n)
    ]
    return emu.load_seed({"objects": {"deals": deals}})["ids"]["deals"]


def fast(emu: Any, **kw: Any) -> HubSpotClient:
    kw.setdefault("requests_per_10s", 5000)
    kw.setdefault("search_per_second", 100)
    return client(emu.url, **kw)


def test_emulator_list_objects_follows_cursors(emulator):
    ids = seed_deals(emulator, 250)
    hs = fast(emulator)
    listed = list(hs.list_objects("deals", ["dealname"]))
    assert sorted(o["id"] for o in listed) == sorted(ids)
    assert hs.stats.calls["GET /crm/objects/2026-09/{object_type}"] == 3
    assert emulator.stats()["total"] == hs.stats.total  # nothing hidden: no retries, no extra calls


def test_emulator_batch_read_in_hundreds_with_unknown_ids_as_failures(emulator):
    ids = seed_deals(emulator, 230)
    hs = fast(emulator)
    result = hs.batch_read("deals", [*ids, "999999991", "999999992"], ["dealname", "amount"])
    assert len(result.results) == 230 and result.results[0]["properties"]["dealname"].startswith("Deal")
    assert set(result.failed_ids()) == {"999999991", "999999992"}
    assert hs.stats.calls["POST /crm/objects/2026-09/{object_type}/batch/read"] == 3


def test_emulator_ensure_properties_is_idempotent(emulator):
    from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
    from hspc_pipelines.mapping.properties import CUSTOM_DEAL_PROPERTIES, CUSTOM_NOTE_PROPERTIES

    hs = fast(emulator)
    created = bootstrap_properties(hs)
    assert len(created) == len(CUSTOM_DEAL_PROPERTIES) + len(CUSTOM_NOTE_PROPERTIES)
    assert "deals.aws_opportunity_id" in created and "notes.hspc_note_key" in created
    before = hs.stats.total
    assert bootstrap_properties(hs) == []
    assert hs.stats.total - before == 2  # one listing per object type, nothing created
    stage = next(p for p in hs.list_properties("deals") if p["name"] == "aws_stage")
    assert [o["value"] for o in stage["options"]][:2] == ["Prospect", "Qualified"]


def test_emulator_batch_writes_isolate_bad_inputs_and_report_missing_ids(emulator):
    from hspc_pipelines.hubspot.bootstrap import bootstrap_properties

    hs = fast(emulator)
    bootstrap_properties(hs)
    inputs = [
        {"properties": {"dealname": f"New {i}", "aws_stage": "Nope" if i in (3, 140) else "Prospect"}}
        for i in range(150)
    ]
    created = hs.batch_create("deals", inputs)
    assert sorted(created.failed_positions()) == [3, 140]
    assert "aws_stage" in created.failed_positions()[3]
    assert len(created.results) == 148
    new_ids = [o["id"] for o in created.results]
    updated = hs.batch_update(
        "deals",
        [{"id": i, "properties": {"aws_stage": "Qualified"}} for i in new_ids[:5]]
        + [{"id": "424242424", "properties": {"aws_stage": "Qualified"}}],
    )
    assert list(updated.failed_ids()) == ["424242424"] and len(updated.results) == 5
    assert {o["properties"]["aws_stage"] for o in hs.batch_read("deals", new_ids[:5], ["aws_stage"])} == {
        "Qualified"
    }


def test_emulator_batch_create_207_costs_one_call_and_names_the_failed_input(emulator):
    from hspc_pipelines.hubspot.bootstrap import bootstrap_properties

    hs = fast(emulator)
    bootstrap_properties(hs)
    inputs = [
        {"properties": {"dealname": f"New {i}", "aws_stage": "Nope" if i == 7 else "Prospect"}}
        for i in range(20)
    ]
    before = emulator.stats()["statuses"].get("207", 0)
    created = hs.batch_create("deals", inputs)
    assert emulator.stats()["statuses"].get("207", 0) == before + 1
    assert hs.stats.calls["POST /crm/objects/2026-09/{object_type}/batch/create"] == 1  # no isolation calls
    assert list(created.failed_positions()) == [7] and "aws_stage" in created.failed_positions()[7]
    assert created.errors[0].input == inputs[7]  # as the caller gave it, without the trace id
    assert sorted(o["properties"]["dealname"] for o in created.results) == sorted(
        f"New {i}" for i in range(20) if i != 7
    )
    names = [o["properties"]["dealname"] for o in hs.list_objects("deals", ["dealname"])]
    assert len(names) == 19 and "New 7" not in names


def test_emulator_search_window_split_past_10000(emulator):
    seed_deals(emulator, 12_500, spread=dt.timedelta(hours=2))
    hs = fast(emulator)
    found = list(hs.search_modified_between("deals", BASE, BASE + dt.timedelta(hours=2), ["dealname"]))
    assert len(found) == 12_500 and len({o["id"] for o in found}) == 12_500
    stamps = [o["properties"]["hs_lastmodifieddate"] for o in found]
    assert stamps == sorted(stamps)
    assert emulator.stats()["statuses"].get("400", 0) == 0
    # the window edge is exclusive: the next window starts where this one ended
    later = list(
        hs.search_modified_between("deals", BASE + dt.timedelta(hours=1), BASE + dt.timedelta(hours=2))
    )
    assert len(later) == 6_250


def test_emulator_associations_read_and_create(emulator):
    deal_ids = seed_deals(emulator, 3)
    companies = emulator.load_seed(
        {"objects": {"companies": [{"properties": {"name": f"C{i}"}} for i in range(2)]}}
    )
    company_ids = companies["ids"]["companies"]
    hs = fast(emulator)
    result = hs.batch_create_associations(
        "deals", "companies", [(deal_ids[0], company_ids[0]), (deal_ids[1], company_ids[1])], type_id=5
    )
    assert result.ok
    links = hs.batch_read_associations("deals", "companies", deal_ids)
    assert links == {deal_ids[0]: [company_ids[0]], deal_ids[1]: [company_ids[1]], deal_ids[2]: []}
    detailed = hs.batch_read_associations_detailed("deals", "companies", deal_ids[:1])
    assert 5 in detailed[deal_ids[0]][0]["type_ids"]


def test_emulator_faults_retried_where_safe(emulator):
    ids = seed_deals(emulator, 3)
    hs = fast(emulator)
    emulator.set_faults(schedule=["503", "502"], match="POST /crm/objects/2026-09/deals/batch/read")
    assert len(hs.batch_read("deals", ids).results) == 3
    emulator.set_faults(schedule=["500"], match="POST /crm/objects/2026-09/companies/batch/create")
    result = hs.batch_create("companies", [{"properties": {"name": "Acme"}}])
    assert list(result.failed_positions()) == [0]
    emulator.set_faults(schedule=["429"], match="POST /crm/objects/2026-09/companies/batch/create")
    assert hs.batch_create("companies", [{"properties": {"name": "Acme"}}]).ok
    companies = list(hs.list_objects("companies", ["name"]))
    assert len(companies) == 1  # the 500 created nothing and was not repeated; the 429 was
    assert hs.stats.retries["POST /crm/objects/2026-09/{object_type}/batch/read"] == 2


def test_emulator_daily_limit_raises_without_retrying(emulator):
    seed_deals(emulator, 1)
    emulator.configure(daily_limit=3)
    hs = fast(emulator)
    for _ in range(3):
        list(hs.list_objects("deals"))
    with pytest.raises(RateLimitExhausted):
        list(hs.list_objects("deals"))
    assert emulator.stats()["statuses"] == {"200": 3, "429": 1}


def test_emulator_client_at_the_quota_gets_no_429s(emulator):
    ids = seed_deals(emulator, 5)
    emulator.configure(rate_limit_per_10s=8)
    hs = client(emulator.url)  # configured for 190 per 10 s: learns 8 from the headers
    hs.get_object("deals", ids[0])
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [hs.get_object("deals", i) for i in ids[:3]]) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert emulator.stats()["statuses"] == {"200": 10}
    assert time.monotonic() - started >= 9.5  # 10 calls at 8 per rolling 10 s
