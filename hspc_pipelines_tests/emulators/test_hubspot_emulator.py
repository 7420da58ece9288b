"""The HubSpot emulator over real HTTP: every endpoint, its limits and its error answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.emulators.hubspot import HubSpotEmulator, start_hubspot_emulator
from hspc_pipelines.hubspot.signatures import SignatureError, verify_v3

TOKEN = "test-token"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[HubSpotEmulator, str]]:
    emulator, server = start_hubspot_emulator(access_tokens=(TOKEN,), webhook_retry_delay=0.05)
    yield emulator, server.url
    server.stop()


@pytest.fixture
def emu(running: tuple[HubSpotEmulator, str]) -> HubSpotEmulator:
    emulator, url = running
    assert requests.post(f"{url}/_emulator/reset", timeout=5).status_code == 200
    requests.post(
        f"{url}/_emulator/config",
        json={
            "rate_limit_per_10s": None,
            "search_per_second": None,
            "daily_limit": None,
            "daily_window_seconds": 86_400,
            "webhook_url": None,
            "webhook_client_secret": None,
            "search_lag_seconds": 0,
        },
        timeout=5,
    )
    return emulator


@pytest.fixture
def url(running: tuple[HubSpotEmulator, str], emu: HubSpotEmulator) -> str:
    return running[1]


@pytest.fixture
def hs(url: str) -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    yield session
    session.close()


def create(hs: requests.Session, url: str, object_type: str, **props: Any) -> dict[str, Any]:
    response = hs.post(f"{url}/crm/v3/objects/{object_type}", json={"properties": props})
    assert response.status_code == 201, response.text
    return response.json()


def search(
    hs: requests.Session, url: str, body: dict[str, Any], object_type: str = "deals"
) -> requests.Response:
    return hs.post(f"{url}/crm/v3/objects/{object_type}/search", json=body)


def assert_error(response: requests.Response, status: int, category: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and body["message"] and body["correlationId"]
    if category:
        assert body["category"] == category
    return body


# auth ---------------------------------------------------------------------------------------------
def test_requests_without_or_with_a_wrong_token_get_401(url: str) -> None:
    assert_error(requests.get(f"{url}/crm/v3/objects/deals"), 401, "INVALID_AUTHENTICATION")
    wrong = requests.get(f"{url}/crm/v3/objects/deals", headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "INVALID_AUTHENTICATION")


# single objects -----------------------------------------------------------------------------------
def test_create_read_update_archive_a_deal(hs: requests.Session, url: str) -> None:
    deal = create(hs, url, "deals", dealname="Acme #AWS", amount="1500.50", closedate="1767225600000")
    assert deal["properties"]["closedate"] == "2026-01-01T00:00:00.000Z"  # ms in, ISO out
    assert deal["properties"]["hs_object_id"] == deal["id"]
    assert deal["createdAt"].endswith("Z") and deal["archived"] is False

    got = hs.get(
        f"{url}/crm/v3/objects/deals/{deal['id']}", params={"properties": "dealname,description"}
    ).json()
    assert got["properties"]["dealname"] == "Acme #AWS"
    assert got["properties"]["description"] is None  # requested but empty: null
    assert {"createdate", "hs_lastmodifieddate", "hs_object_id"} <= set(got["properties"])

    time.sleep(0.005)
    patched = hs.patch(f"{url}/crm/v3/objects/deals/{deal['id']}", json={"properties": {"amount": "2000"}})
    assert patched.status_code == 200
    modified = patched.json()["properties"]["hs_lastmodifieddate"]
    assert modified > deal["properties"]["hs_lastmodifieddate"]
    assert patched.json()["updatedAt"] == modified

    time.sleep(0.005)  # a PATCH that changes nothing leaves the modified date alone
    same = hs.patch(
        f"{url}/crm/v3/objects/deals/{deal['id']}", json={"properties": {"amount": "2000"}}
    ).json()
    assert same["properties"]["hs_lastmodifieddate"] == modified

    cleared = hs.patch(f"{url}/crm/v3/objects/deals/{deal['id']}", json={"properties": {"dealname": ""}})
    assert cleared.json()["properties"]["dealname"] is None
    fetched = hs.get(f"{url}/crm/v3/objects/deals/{deal['id']}", params={"properties": "dealname"}).json()
    assert fetched["properties"]["dealname"] is None

    assert hs.delete(f"{url}/crm/v3/objects/deals/{deal['id']}").status_code == 204
    body = assert_error(hs.get(f"{url}/crm/v3/objects/deals/{deal['id']}"), 404, "OBJECT_NOT_FOUND")
    assert body["context"] == {"id": [deal["id"]]}
    archived = hs.get(f"{url}/crm/v3/objects/deals/{deal['id']}", params={"archived": "true"}).json()
    assert archived["archived"] is True and archived["archivedAt"]
    assert_error(hs.patch(f"{url}/crm/v3/objects/deals/{deal['id']}", json={"properties": {}}), 404)


def test_get_by_id_property_and_unknown_path(hs: requests.Session, url: str) -> None:
    contact = create(hs, url, "contacts", email="jo@example.com", firstname="Jo")
    got = hs.get(f"{url}/crm/v3/objects/contacts/jo@example.com", params={"idProperty": "email"}).json()
    assert got["id"] == contact["id"] and got["properties"]["lastmodifieddate"]
    assert_error(hs.get(f"{url}/crm/v3/nothing/here"), 404)
    assert_error(hs.get(f"{url}/crm/v3/objects/widgets/1"), 400, "VALIDATION_ERROR")


def test_list_pages_with_a_cursor_until_every_record_is_seen(hs: requests.Session, url: str) -> None:
    ids = {create(hs, url, "companies", name=f"C{i}")["id"] for i in range(7)}
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 3, "properties": "name", **({"after": after} if after else {})}
        page = hs.get(f"{url}/crm/v3/objects/companies", params=params).json()
        seen += [r["id"] for r in page["results"]]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert seen == sorted(ids, key=int)
    assert_error(hs.get(f"{url}/crm/v3/objects/companies", params={"limit": 101}), 400)


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"amount": "lots"}, "INVALID_FLOAT"),
        ({"closedate": "next tuesday"}, "INVALID_DATE"),
        ({"deal_currency_code": "XYZ"}, "INVALID_OPTION"),
        ({"hs_object_id": "5"}, "READ_ONLY_VALUE"),
    ],
)
def test_property_values_are_validated_by_type(
    hs: requests.Session, url: str, props: dict[str, str], code: str
) -> None:
    body = assert_error(
        hs.post(f"{url}/crm/v3/objects/deals", json={"properties": props}), 400, "VALIDATION_ERROR"
    )
    assert body["message"].startswith("Property values were not valid")
    assert body["errors"][0]["code"] == code
    assert list(props)[0] in body["message"]
    assert hs.get(f"{url}/crm/v3/objects/deals").json()["results"] == []  # nothing was written


def test_enumeration_checkbox_bool_and_industry_validation(hs: requests.Session, url: str) -> None:
    definition = {
        "name": "aws_delivery",
        "label": "Delivery",
        "type": "enumeration",
        "fieldType": "checkbox",
        "groupName": "dealinformation",
        "options": [{"label": "SaaS", "value": "SaaS"}, {"label": "Managed", "value": "Managed"}],
    }
    assert hs.post(f"{url}/crm/v3/properties/deals", json=definition).status_code == 201
    flag = {
        "name": "aws_submit",
        "label": "Submit",
        "type": "bool",
        "fieldType": "booleancheckbox",
        "groupName": "dealinformation",
    }
    assert hs.post(f"{url}/crm/v3/properties/deals", json=flag).status_code == 201
    ok = create(hs, url, "deals", aws_delivery="SaaS;Managed", aws_submit="TRUE")
    assert ok["properties"]["aws_delivery"] == "SaaS;Managed" and ok["properties"]["aws_submit"] == "true"
    bad = hs.post(f"{url}/crm/v3/objects/deals", json={"properties": {"aws_delivery": "SaaS;Hosted"}})
    assert assert_error(bad, 400)["errors"][0]["code"] == "INVALID_OPTION"
    assert (
        assert_error(hs.post(f"{url}/crm/v3/objects/deals", json={"properties": {"aws_submit": "yes"}}), 400)[
            "errors"
        ][0]["code"]
        == "INVALID_BOOLEAN"
    )
    assert (
        create(hs, url, "companies", industry="COMPUTER_SOFTWARE")["properties"]["industry"]
        == "COMPUTER_SOFTWARE"
    )
    assert_error(
        hs.post(f"{url}/crm/v3/objects/companies", json={"properties": {"industry": "Software"}}), 400
    )


# batch --------------------------------------------------------------------------------------------
def test_batch_create_read_update_archive(hs: requests.Session, url: str) -> None:
    base = f"{url}/crm/v3/objects/contacts/batch"
    created = hs.post(
        f"{base}/create",
        json={
            "inputs": [{"properties": {"email": f"p{i}@example.com", "firstname": f"P{i}"}} for i in range(3)]
        },
    )
    assert created.status_code == 201
    ids = [r["id"] for r in created.json()["results"]]
    assert created.json()["status"] == "COMPLETE"

    read = hs.post(
        f"{base}/read", json={"inputs": [{"id": i} for i in [*ids, "999"]], "properties": ["email"]}
    )
    assert read.status_code == 207
    body = read.json()
    assert sorted(r["id"] for r in body["results"]) == sorted(ids)
    assert body["numErrors"] == 1 and body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"ids": ["999"]}

    by_email = hs.post(
        f"{base}/read",
        json={"idProperty": "email", "inputs": [{"id": "p1@example.com"}], "properties": ["firstname"]},
    )
    assert by_email.status_code == 200 and by_email.json()["results"][0]["properties"]["firstname"] == "P1"

    updated = hs.post(
        f"{base}/update",
        json={
            "inputs": [
                {"id": ids[0], "properties": {"jobtitle": "CTO"}},
                {"id": "999", "properties": {"jobtitle": "CFO"}},
            ]
        },
    )
    assert updated.status_code == 207
    assert updated.json()["results"][0]["properties"]["jobtitle"] == "CTO"
    assert updated.json()["errors"][0]["context"] == {"ids": ["999"]}
    dup = hs.post(f"{base}/update", json={"inputs": [{"id": ids[0], "properties": {}}] * 2})
    assert_error(dup, 400, "VALIDATION_ERROR")
    invalid = hs.post(f"{base}/update", json={"inputs": [{"id": ids[1], "properties": {"nope": "1"}}]})
    assert_error(invalid, 400)

    assert hs.post(f"{base}/archive", json={"inputs": [{"id": ids[0]}, {"id": "999"}]}).status_code == 204
    assert hs.post(f"{base}/read", json={"inputs": [{"id": ids[0]}]}).status_code == 207
    assert hs.post(f"{base}/read", json={"inputs": [{"id": ids[0]}], "archived": True}).status_code == 200


@pytest.mark.parametrize("verb", ["read", "create", "update", "archive"])
def test_batches_over_100_inputs_are_refused(hs: requests.Session, url: str, verb: str) -> None:
    inputs = [{"id": str(i), "properties": {}} for i in range(101)]
    body = assert_error(hs.post(f"{url}/crm/v3/objects/deals/batch/{verb}", json={"inputs": inputs}), 400)
    assert "100" in body["message"]


def test_batch_create_fails_whole_when_one_input_is_invalid(hs: requests.Session, url: str) -> None:
    inputs = [{"properties": {"dealname": "ok"}}, {"properties": {"amount": "NaN-ish"}}]
    body = assert_error(hs.post(f"{url}/crm/v3/objects/deals/batch/create", json={"inputs": inputs}), 400)
    assert body["context"]["index"] == ["1"]
    assert hs.get(f"{url}/crm/v3/objects/deals").json()["results"] == []


@pytest.mark.parametrize("traces", [["a", "a", "c"], ["a", None, "c"]])
def test_batch_create_without_unique_trace_ids_stays_all_or_nothing(
    hs: requests.Session, url: str, traces: list[str | None]
) -> None:
    inputs = [
        {"properties": {"dealname": "ok"}, **({"objectWriteTraceId": t} if t else {})} for t in traces[:2]
    ] + [{"properties": {"amount": "NaN-ish"}, "objectWriteTraceId": traces[2]}]
    body = assert_error(hs.post(f"{url}/crm/v3/objects/deals/batch/create", json={"inputs": inputs}), 400)
    assert body["context"]["index"] == ["2"]
    assert hs.get(f"{url}/crm/v3/objects/deals").json()["results"] == []


def test_batch_create_with_unique_trace_ids_answers_207_and_creates_the_good_ones(
    hs: requests.Session, url: str
) -> None:
    inputs = [
        {"properties": {"dealname": "one"}, "objectWriteTraceId": "t-1"},
        {"properties": {"dealname": "bad", "amount": "NaN-ish"}, "objectWriteTraceId": "t-2"},
        {"properties": {"dealname": "three"}, "objectWriteTraceId": "t-3"},
    ]
    response = hs.post(f"{url}/crm/v3/objects/deals/batch/create", json={"inputs": inputs})
    assert response.status_code == 207, response.text
    body = response.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t-1", "t-3"]
    assert body["numErrors"] == 1
    (error,) = body["errors"]
    assert error["context"] == {"objectWriteTraceId": ["t-2"]}
    assert error["category"] == "VALIDATION_ERROR" and "amount" in json.dumps(error)
    stored = hs.get(f"{url}/crm/v3/objects/deals", params={"properties": "dealname"}).json()["results"]
    assert sorted(r["properties"]["dealname"] for r in stored) == ["one", "three"]


# search -------------------------------------------------------------------------------------------
def test_search_index_lag_hides_new_writes_and_answers_old_values(hs: requests.Session, url: str) -> None:
    def found(**filters: str) -> list[dict[str, Any]]:
        group = {"filters": [{"propertyName": k, "operator": "EQ", "value": v} for k, v in filters.items()]}
        body = {"filterGroups": [group], "properties": ["dealname", "amount"]}
        return search(hs, url, body).json()["results"]

    old = create(hs, url, "deals", dealname="old", amount="1")
    assert [d["id"] for d in found(dealname="old")] == [old["id"]]  # off by default: found at once
    requests.post(f"{url}/_emulator/config", json={"search_lag_seconds": 600}, timeout=5)
    new = create(hs, url, "deals", dealname="new", amount="2")
    hs.patch(f"{url}/crm/v3/objects/deals/{old['id']}", json={"properties": {"amount": "5"}})
    gone = create(hs, url, "deals", dealname="gone", amount="3")
    assert found(dealname="new") == []  # written a moment ago: not indexed yet
    assert found(amount="5") == [] and found(amount="1")[0]["properties"]["amount"] == "1"  # old values
    # reads by id are not lagging
    assert hs.get(f"{url}/crm/v3/objects/deals/{new['id']}").status_code == 200
    assert hs.delete(f"{url}/crm/v3/objects/deals/{gone['id']}").status_code == 204
    requests.post(f"{url}/_emulator/config", json={"search_lag_seconds": 0}, timeout=5)
    assert [d["id"] for d in found(dealname="new")] == [new["id"]]  # the lag has passed
    assert found(amount="5")[0]["id"] == old["id"] and found(dealname="gone") == []


@pytest.fixture
def deals(hs: requests.Session, url: str) -> dict[str, str]:
    rows = {
        "a": {
            "dealname": "Alpha #AWS migration",
            "amount": "100",
            "closedate": "2026-01-10",
            "dealstage": "qualifiedtobuy",
        },
        "b": {
            "dealname": "Beta renewal",
            "amount": "250.5",
            "closedate": "2026-02-10",
            "dealstage": "closedwon",
        },
        "c": {"dealname": "Gamma #aws data lake", "amount": "1000", "closedate": "2026-03-10"},
        "d": {"dealname": "Delta", "closedate": "2025-12-01", "dealstage": "closedlost"},
    }
    return {key: create(hs, url, "deals", **props)["id"] for key, props in rows.items()}


def ids_of(response: requests.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {r["id"] for r in response.json()["results"]}


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}, "b"),
        (
            {"propertyName": "dealname", "operator": "EQ", "value": "DELTA"},
            "d",
        ),  # strings match case-insensitively
        ({"propertyName": "dealstage", "operator": "NEQ", "value": "closedwon"}, "acd"),
        ({"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]}, "bd"),
        ({"propertyName": "dealstage", "operator": "NOT_IN", "values": ["closedwon", "closedlost"]}, "ac"),
        ({"propertyName": "amount", "operator": "HAS_PROPERTY"}, "abc"),
        ({"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}, "d"),
        ({"propertyName": "amount", "operator": "GT", "value": "100"}, "bc"),  # numeric, not "1000" < "250.5"
        ({"propertyName": "amount", "operator": "GTE", "value": "100"}, "abc"),
        ({"propertyName": "amount", "operator": "LT", "value": "250.5"}, "a"),
        ({"propertyName": "amount", "operator": "LTE", "value": "250.5"}, "ab"),
        ({"propertyName": "amount", "operator": "BETWEEN", "value": "200", "highValue": "1000"}, "bc"),
        (
            {"propertyName": "closedate", "operator": "GTE", "value": "1768003200000"},
            "abc",
        ),  # 2026-01-10 in ms
        ({"propertyName": "closedate", "operator": "LT", "value": "2026-01-10T00:00:00Z"}, "d"),
        (
            {
                "propertyName": "closedate",
                "operator": "BETWEEN",
                "value": "2026-01-01",
                "highValue": "2026-02-28",
            },
            "ab",
        ),
        ({"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "aws"}, "ac"),
        ({"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "*enew*"}, "b"),
    ],
)
def test_search_operators(
    hs: requests.Session, url: str, deals: dict[str, str], flt: dict[str, Any], expected: str
) -> None:
    found = ids_of(search(hs, url, {"filterGroups": [{"filters": [flt]}], "limit": 200}))
    assert found == {deals[k] for k in expected}


def test_search_groups_or_filters_and_sorts_and_pages(
    hs: requests.Session, url: str, deals: dict[str, str]
) -> None:
    groups = [
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]},
        {
            "filters": [
                {"propertyName": "amount", "operator": "GTE", "value": "100"},
                {"propertyName": "amount", "operator": "LT", "value": "200"},
            ]
        },
    ]
    assert ids_of(search(hs, url, {"filterGroups": groups})) == {deals["a"], deals["b"]}

    body = {
        "sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
        "limit": 2,
        "properties": ["amount"],
    }
    first = search(hs, url, body).json()
    assert first["total"] == 4
    assert [r["properties"]["amount"] for r in first["results"]] == ["1000", "250.5"]
    second = search(hs, url, {**body, "after": first["paging"]["next"]["after"]}).json()
    assert [r["id"] for r in second["results"]] == [deals["a"], deals["d"]]  # empty values sort last
    assert "paging" not in second
    assert ids_of(search(hs, url, {"query": "gamma"})) == {deals["c"]}


def test_search_limits_are_enforced(hs: requests.Session, url: str) -> None:
    flt = {"propertyName": "amount", "operator": "HAS_PROPERTY"}
    assert_error(search(hs, url, {"limit": 201}), 400, "VALIDATION_ERROR")
    assert_error(search(hs, url, {"filterGroups": [{"filters": [flt]}] * 6}), 400)
    assert_error(search(hs, url, {"filterGroups": [{"filters": [flt] * 13}, {"filters": [flt] * 13}]}), 400)
    assert search(hs, url, {"filterGroups": [{"filters": [flt] * 5}] * 5}).status_code == 200
    assert_error(search(hs, url, {"filterGroups": [{"filters": [{**flt, "operator": "LIKE"}]}]}), 400)
    assert_error(search(hs, url, {"filterGroups": [{"filters": [{**flt, "propertyName": "nope"}]}]}), 400)


def test_search_stops_at_10000_results(emu: HubSpotEmulator, hs: requests.Session, url: str) -> None:
    emu.load_seed({"objects": {"deals": [{"properties": {"dealname": f"d{i}"}} for i in range(10_050)]}})
    page = search(hs, url, {"limit": 200, "after": "9800"}).json()
    assert page["total"] == 10_050 and len(page["results"]) == 200
    assert page["paging"]["next"]["after"] == "10000"
    body = assert_error(search(hs, url, {"limit": 10, "after": "10000"}), 400, "VALIDATION_ERROR")
    assert "10000" in body["message"]


# associations -------------------------------------------------------------------------------------
def test_associations_inline_default_batch_and_both_directions(hs: requests.Session, url: str) -> None:
    company = create(hs, url, "companies", name="Acme")["id"]
    contact = create(hs, url, "contacts", email="a@acme.test")["id"]
    inline = hs.post(
        f"{url}/crm/v3/objects/deals",
        json={
            "properties": {"dealname": "Acme #AWS"},
            "associations": [
                {
                    "to": {"id": company},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
                }
            ],
        },
    )
    deal = inline.json()["id"]

    read = hs.post(f"{url}/crm/v4/associations/deals/companies/batch/read", json={"inputs": [{"id": deal}]})
    assert read.status_code == 200
    assert read.json()["results"] == [
        {
            "from": {"id": deal},
            "to": [
                {
                    "toObjectId": int(company),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                        {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
                    ],
                }
            ],
        }
    ]
    reverse = hs.post(
        f"{url}/crm/v4/associations/companies/deals/batch/read", json={"inputs": [{"id": company}]}
    )
    assert {t["typeId"] for t in reverse.json()["results"][0]["to"][0]["associationTypes"]} == {6, 342}

    put = hs.put(f"{url}/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}")
    assert put.status_code == 200
    assert put.json()["results"][0]["associationSpec"] == {
        "associationCategory": "HUBSPOT_DEFINED",
        "associationTypeId": 3,
    }
    listed = hs.get(f"{url}/crm/v4/objects/contacts/{contact}/associations/deals").json()
    assert listed["results"][0]["toObjectId"] == int(deal)
    assert listed["results"][0]["associationTypes"][0]["typeId"] == 4

    note = create(hs, url, "notes", hs_note_body="hello", hs_timestamp="2026-01-01T00:00:00Z")["id"]
    v3 = hs.put(f"{url}/crm/v3/objects/notes/{note}/associations/deals/{deal}/note_to_deal")
    assert v3.status_code == 200 and v3.json()["associations"]["deals"]["results"][0]["id"] == deal
    notes = hs.post(
        f"{url}/crm/v4/associations/deals/notes/batch/read", json={"inputs": [{"id": deal}]}
    ).json()
    assert notes["results"][0]["to"][0]["associationTypes"][0]["typeId"] == 213

    task = create(hs, url, "tasks", hs_task_subject="Call", hs_task_status="NOT_STARTED")["id"]
    batch = hs.post(
        f"{url}/crm/v4/associations/tasks/deals/batch/create",
        json={
            "inputs": [
                {
                    "from": {"id": task},
                    "to": {"id": deal},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}],
                },
                {
                    "from": {"id": task},
                    "to": {"id": "999"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}],
                },
            ]
        },
    )
    assert batch.status_code == 207
    assert batch.json()["results"][0]["toObjectId"] == int(deal) and batch.json()["numErrors"] == 1
    wrong_type = hs.post(
        f"{url}/crm/v4/associations/tasks/deals/batch/create",
        json={
            "inputs": [
                {
                    "from": {"id": task},
                    "to": {"id": deal},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
                }
            ]
        },
    )
    assert_error(wrong_type, 400)

    with_assoc = hs.get(
        f"{url}/crm/v3/objects/deals/{deal}", params={"associations": "companies,contacts"}
    ).json()
    assert with_assoc["associations"]["contacts"]["results"] == [{"id": contact, "type": "deal_to_contact"}]

    assert hs.delete(f"{url}/crm/v4/objects/deals/{deal}/associations/contacts/{contact}").status_code == 204
    none = hs.post(f"{url}/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": deal}]})
    assert none.status_code == 207
    assert none.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    too_many = hs.post(
        f"{url}/crm/v4/associations/deals/companies/batch/read",
        json={"inputs": [{"id": str(i)} for i in range(1001)]},
    )
    assert_error(too_many, 400)


def test_default_association_adds_primary_only_once(hs: requests.Session, url: str) -> None:
    deal = create(hs, url, "deals", dealname="D")["id"]
    first, second = (create(hs, url, "companies", name=n)["id"] for n in ("One", "Two"))
    a = hs.put(f"{url}/crm/v4/objects/deals/{deal}/associations/default/companies/{first}").json()
    b = hs.put(f"{url}/crm/v4/objects/deals/{deal}/associations/default/companies/{second}").json()
    assert {r["associationSpec"]["associationTypeId"] for r in a["results"]} == {5, 341}
    assert {r["associationSpec"]["associationTypeId"] for r in b["results"]} == {341}
    assert_error(hs.put(f"{url}/crm/v4/objects/deals/{deal}/associations/default/companies/999"), 404)


# properties ---------------------------------------------------------------------------------------
def test_properties_list_read_create_and_conflict(hs: requests.Session, url: str) -> None:
    names = {p["name"]: p for p in hs.get(f"{url}/crm/v3/properties/companies").json()["results"]}
    assert len(names["industry"]["options"]) == 147 and names["industry"]["type"] == "enumeration"
    assert {"name", "domain", "country", "phone", "hs_lastmodifieddate"} <= set(names)
    amount = hs.get(f"{url}/crm/v3/properties/deals/amount").json()
    assert amount["type"] == "number"
    assert_error(hs.get(f"{url}/crm/v3/properties/deals/nope"), 404, "OBJECT_NOT_FOUND")
    definition = {
        "name": "aws_opportunity_id",
        "label": "AWS Opportunity ID",
        "type": "string",
        "fieldType": "text",
        "groupName": "dealinformation",
    }
    created = hs.post(f"{url}/crm/v3/properties/deals", json=definition)
    assert created.status_code == 201 and created.json()["hubspotDefined"] is False
    assert_error(hs.post(f"{url}/crm/v3/properties/deals", json=definition), 409, "OBJECT_ALREADY_EXISTS")
    # options come back as HubSpot's Option model has them: `hidden` and `displayOrder` always present
    enum: dict[str, Any] = {**definition, "name": "aws_level", "type": "enumeration", "fieldType": "select"}
    enum["options"] = [{"label": "High", "value": "High"}, {"label": "Low", "value": "Low", "hidden": True}]
    assert hs.post(f"{url}/crm/v3/properties/deals", json=enum).status_code == 201
    options = hs.get(f"{url}/crm/v3/properties/deals/aws_level").json()["options"]
    assert [(o["value"], o["hidden"], o["displayOrder"]) for o in options] == [
        ("High", False, 0),
        ("Low", True, 1),
    ]
    assert_error(hs.post(f"{url}/crm/v3/properties/deals", json={"name": "x"}), 400)
    assert create(hs, url, "deals", aws_opportunity_id="O123")["properties"]["aws_opportunity_id"] == "O123"


def test_pipelines_include_the_default_one(hs: requests.Session, url: str) -> None:
    pipelines = hs.get(f"{url}/crm/v3/pipelines/deals").json()["results"]
    assert pipelines[0]["id"] == "default"
    assert [s["id"] for s in pipelines[0]["stages"]][-2:] == ["closedwon", "closedlost"]


# rate limits and faults ---------------------------------------------------------------------------
def test_ten_second_rate_limit_answers_429_with_headers(hs: requests.Session, url: str) -> None:
    requests.post(f"{url}/_emulator/config", json={"rate_limit_per_10s": 3}, timeout=5)
    answers = [hs.get(f"{url}/crm/v3/objects/deals") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert answers[0].headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert answers[3].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert answers[3].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert all(
        h in answers[3].headers for h in ("X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining")
    )
    body = answers[3].json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."


def test_the_daily_limit_answers_429_daily_until_the_day_turns(
    emu: HubSpotEmulator, hs: requests.Session, url: str
) -> None:
    # a day scaled to 2 s; start just after it turned so the four calls fall in one day
    requests.post(f"{url}/_emulator/config", json={"daily_limit": 3, "daily_window_seconds": 2}, timeout=5)
    time.sleep(2 - time.time() % 2)
    answers = [hs.get(f"{url}/crm/v3/objects/deals") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-HubSpot-RateLimit-Daily"] == "3"
    assert answers[0].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "2"
    assert answers[3].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    body = answers[3].json()
    assert body["policyName"] == "DAILY" and body["errorType"] == "RATE_LIMIT"
    time.sleep(2 - time.time() % 2)
    assert hs.get(f"{url}/crm/v3/objects/deals").status_code == 200
    assert emu.limits.spend_daily("test-token", 2) == 0  # another app of the portal spends the rest
    assert hs.get(f"{url}/crm/v3/objects/deals").json()["policyName"] == "DAILY"


def test_search_has_its_own_per_second_limit(hs: requests.Session, url: str) -> None:
    requests.post(f"{url}/_emulator/config", json={"search_per_second": 2}, timeout=5)
    codes = [search(hs, url, {}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert hs.get(f"{url}/crm/v3/objects/deals").status_code == 200  # other calls are not limited
    time.sleep(1.05)
    assert search(hs, url, {}).status_code == 200


def test_fault_schedule_rate_and_slow_answers(emu: HubSpotEmulator, hs: requests.Session, url: str) -> None:
    faults = requests.post(
        f"{url}/_emulator/faults", json={"schedule": ["429", "ok", "500", "503"]}, timeout=5
    )
    assert faults.status_code == 200
    codes = [hs.get(f"{url}/crm/v3/objects/deals").status_code for _ in range(5)]
    assert codes == [429, 200, 500, 503, 200]

    emu.set_faults(rate=0.5, kinds=["502"], seed=7)
    first = [hs.get(f"{url}/crm/v3/objects/deals").status_code for _ in range(20)]
    emu.set_faults(rate=0.5, kinds=["502"], seed=7)
    again = [hs.get(f"{url}/crm/v3/objects/deals").status_code for _ in range(20)]
    assert first == again and set(first) == {200, 502}  # seeded: the same faults replay

    requests.post(f"{url}/_emulator/faults", json={"schedule": ["slow"], "delay_seconds": 0.3}, timeout=5)
    started = time.monotonic()
    assert hs.get(f"{url}/crm/v3/objects/deals").status_code == 200
    assert time.monotonic() - started >= 0.3

    requests.post(f"{url}/_emulator/faults", json={"schedule": ["500_after"]}, timeout=5)
    lost = hs.post(f"{url}/crm/v3/objects/deals", json={"properties": {"dealname": "written anyway"}})
    assert lost.status_code == 500
    assert len(hs.get(f"{url}/crm/v3/objects/deals").json()["results"]) == 1  # the write happened

    requests.post(
        f"{url}/_emulator/faults", json={"rate": 1.0, "kinds": ["503"], "match": "/search"}, timeout=5
    )
    assert search(hs, url, {}).status_code == 503
    assert hs.get(f"{url}/crm/v3/objects/deals").status_code == 200
    assert requests.delete(f"{url}/_emulator/faults", timeout=5).status_code == 200
    assert search(hs, url, {}).status_code == 200
    assert_error(requests.post(f"{url}/_emulator/faults", json={"kinds": ["418"]}, timeout=5), 400)


def test_stats_count_calls_per_endpoint_and_status(hs: requests.Session, url: str) -> None:
    deal = create(hs, url, "deals", dealname="x")["id"]
    hs.get(f"{url}/crm/v3/objects/deals/{deal}")
    hs.get(f"{url}/crm/v3/objects/deals/999")
    hs.post(f"{url}/crm/v3/objects/deals/batch/read", json={"inputs": [{"id": deal}]})
    stats = requests.get(f"{url}/_emulator/stats", timeout=5).json()
    assert stats["calls"]["GET /crm/v3/objects/deals/{id}"] == 2
    assert stats["calls"]["POST /crm/v3/objects/deals/batch/read"] == 1
    assert stats["by_endpoint_status"]["GET /crm/v3/objects/deals/{id}"] == {"200": 1, "404": 1}
    assert stats["statuses"]["201"] == 1 and stats["total"] == 4
    requests.post(f"{url}/_emulator/stats/reset", timeout=5)
    assert requests.get(f"{url}/_emulator/stats", timeout=5).json()["total"] == 0


# seeding through the control API ------------------------------------------------------------------
def test_control_seed_with_objects_and_generated_data(hs: requests.Session, url: str) -> None:
    payload = {
        "objects": {
            "deals": [{"id": "777", "properties": {"dealname": "Seeded"}}],
            "companies": [{"id": "888", "properties": {"name": "SeedCo"}}],
        },
        "associations": [
            {"from": {"type": "deals", "id": "777"}, "to": {"type": "companies", "id": "888"}, "types": [5]}
        ],
    }
    assert requests.post(f"{url}/_emulator/seed", json=payload, timeout=5).status_code == 201
    read = hs.post(f"{url}/crm/v4/associations/companies/deals/batch/read", json={"inputs": [{"id": "888"}]})
    assert read.json()["results"][0]["to"][0]["toObjectId"] == 777
    new = create(hs, url, "deals", dealname="after seed")
    assert int(new["id"]) > 888  # generated ids never collide with seeded ones

    generated = requests.post(
        f"{url}/_emulator/seed", json={"generate": {"deals": 20, "seed": 3}}, timeout=30
    )
    assert generated.status_code == 201 and generated.json()["counts"]["deals"] == 20
    total = search(
        hs,
        url,
        {
            "filterGroups": [
                {"filters": [{"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "aws"}]}
            ]
        },
    ).json()["total"]
    assert 0 < total <= 20
    assert_error(requests.post(f"{url}/_emulator/nothing", timeout=5), 404)


# webhooks -----------------------------------------------------------------------------------------
class Receiver:
    """A loopback app that verifies each delivery's v3 signature and fails the first one on purpose."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.batches: list[list[dict[str, Any]]] = []
        self.rejected: list[str] = []
        self.fail_first = True
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hooks", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            verify_v3(
                self.secret,
                "POST",
                str(request.url),
                body,
                request.headers.get("X-HubSpot-Signature-v3"),
                request.headers.get("X-HubSpot-Request-Timestamp"),
            )
        except SignatureError as exc:
            self.rejected.append(str(exc))
            return Response(status_code=401)
        assert request.headers["X-HubSpot-Signature-Version"] == "v3"
        with self.lock:
            if self.fail_first:
                self.fail_first = False
                return Response(status_code=500)
            self.batches.append(json.loads(body))
        return Response(status_code=204)


def test_webhooks_are_signed_batched_and_retried(hs: requests.Session, url: str) -> None:
    receiver = Receiver("client-secret")
    with serve_in_thread(receiver.app) as hook_server:
        requests.post(
            f"{url}/_emulator/config",
            json={"webhook_url": f"{hook_server.url}/hooks", "webhook_client_secret": "client-secret"},
            timeout=5,
        )
        deal = create(hs, url, "deals", dealname="Hooked #AWS", closedate="2026-03-01")["id"]
        company = create(hs, url, "companies", name="Hooked Co")["id"]
        hs.patch(f"{url}/crm/v3/objects/deals/{deal}", json={"properties": {"amount": "10"}})
        hs.put(f"{url}/crm/v4/objects/deals/{deal}/associations/default/companies/{company}")
        hs.delete(f"{url}/crm/v3/objects/deals/{deal}")
        flushed = requests.get(f"{url}/_emulator/webhooks", params={"flush": "true"}, timeout=30).json()
    assert receiver.rejected == []
    events = [e for batch in receiver.batches for e in batch]
    kinds = [e["subscriptionType"] for e in events]
    assert kinds[0] == "deal.creation"
    assert {"deal.propertyChange", "deal.associationChange", "deal.deletion"} <= set(kinds)
    assert all(
        e["objectId"] == int(deal) and e["portalId"] and e["eventId"] and e["occurredAt"] for e in events
    )
    changes = {
        e["propertyName"]: e["propertyValue"]
        for e in events
        if e["subscriptionType"] == "deal.propertyChange"
    }
    assert changes["amount"] == "10" and changes["closedate"] == "1772323200000"  # dates as epoch ms
    # The first POST got a 500, so its events came again with attemptNumber 1.
    assert events[0]["attemptNumber"] == 1
    attempts = flushed["deliveries"]
    assert attempts[0]["status"] == 500 and attempts[1]["status"] == 204
    assert len({e["eventId"] for e in events}) == len(events)


def test_python_control_methods_match_the_http_ones(
    emu: HubSpotEmulator, hs: requests.Session, url: str
) -> None:
    emu.load_seed({"objects": {"deals": [{"properties": {"dealname": "py"}}]}})
    assert emu.stats()["objects"]["deals"] == 1
    assert emu.seed({"generate": {"deals": 5, "seed": 1}})["counts"]["deals"] == 5
    assert emu.stats()["objects"]["deals"] == 6
    emu.set_faults(schedule=["503"])
    assert hs.get(f"{url}/crm/v3/objects/deals").status_code == 503
    assert emu.stats()["statuses"]["503"] == 1 and emu.stats()["faults_injected"] == {"503": 1}
    emu.reset()
    assert emu.stats()["total"] == 0 and emu.stats()["objects"]["deals"] == 0
