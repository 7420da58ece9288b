"""Submit requests (token, validation, queueing), the solutions routes and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest

from hspc_pipelines.queue.envelope import SUBMIT_REQUEST, decode_message
from hspc_pipelines_tests.support.ingress import ListSource

TOKEN = "api-token-91b7"


def test_submit_is_queued_with_defaults(make_ingress) -> None:
    ingress = make_ingress()
    response = ingress.http.post(ingress.url + "/submit-opportunity", json={"dealId": "12345"})
    assert response.status_code == 202
    answer = response.json()
    request_id = answer.pop("requestId")
    assert answer == {
        "status": "queued",
        "dealId": "12345",
        "involvementType": "Co-Sell",
        "visibility": "Full",
    }
    (message,) = ingress.queue.drain()
    decoded = decode_message(message["Body"])
    assert decoded.kind == SUBMIT_REQUEST and decoded.submit_request is not None
    assert decoded.submit_request.deal_id == "12345"
    # the request id is the message's: the run the message starts records its answer under it
    assert decoded.message_id == request_id


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({}, ["dealId", "None", "string of 1 to 19 digits"]),
        ({"dealId": 12345}, ["dealId", "12345"]),
        ({"dealId": "12a"}, ["dealId", "'12a'"]),
        ({"dealId": "123\n"}, ["dealId", "'123\\n'"]),  # regression: "$" let a trailing newline through
        (
            {"dealId": "1", "involvementType": "Sell"},
            ["involvementType", "'Sell'", "Co-Sell | For Visibility Only"],
        ),
        ({"dealId": "1", "visibility": "Public"}, ["visibility", "'Public'", "Full | Limited"]),
        ({"dealId": "1", "extra": 1}, ["extra", "only the fields"]),
        ([1], ["body", "JSON object"]),
    ],
)
def test_submit_validation_names_field_value_and_allowed(
    make_ingress, body: object, needles: list[str]
) -> None:
    ingress = make_ingress()
    response = ingress.http.post(ingress.url + "/submit-opportunity", json=body)
    assert response.status_code == 400
    for needle in needles:
        assert needle in response.json()["error"]
    assert ingress.queue.depth() == 0


def test_submit_rejects_non_json(make_ingress) -> None:
    ingress = make_ingress()
    response = ingress.http.post(ingress.url + "/submit-opportunity", data=b"dealId=1")
    assert response.status_code == 400 and "JSON object" in response.json()["error"]


def test_submit_requires_the_bearer_token(make_ingress) -> None:
    ingress = make_ingress(api_token=TOKEN)
    url = ingress.url + "/submit-opportunity"
    for headers in (
        {"Authorization": None},  # the session's header removed: none sent
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        response = ingress.http.post(url, json={"dealId": "1"}, headers=headers)
        assert response.status_code == 401 and TOKEN not in response.text
    assert ingress.queue.depth() == 0
    ok = ingress.http.post(url, json={"dealId": "1"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 202


SOLUTIONS: list[dict[str, Any]] = [
    {
        "Id": f"S-{i:07d}",
        "Name": name,
        "Category": cat,
        "Status": status,
        "Arn": f"arn:aws:partnercentral:us-east-1::solution/S-{i:07d}",
        "CreatedDate": dt.datetime(2024, 1, i, tzinfo=dt.UTC),
    }
    for i, (name, cat, status) in enumerate(
        [
            ("AWS Database Migration Service", "Database", "Active"),
            ("MongoDB Atlas on AWS", "Database", "Active"),
            ("Data Lake Accelerator", "Analytics", "Active"),
            ("Legacy Backup Appliance", "Storage", "Inactive"),
            ("Serverless Migration Factory", "Migration", "Active"),
        ],
        start=1,
    )
]


def test_list_filters_and_pages(make_ingress) -> None:
    ingress = make_ingress(solutions=ListSource(SOLUTIONS))
    all_active = ingress.http.get(ingress.url + "/solutions").json()
    assert all_active["count"] == 4 and all_active["nextToken"] is None
    assert all_active["solutions"][0] == {
        "id": "S-0000001",
        "name": "AWS Database Migration Service",
        "category": "Database",
        "status": "Active",
    }
    db = ingress.http.get(ingress.url + "/solutions", params={"category": "database"}).json()
    assert [s["id"] for s in db["solutions"]] == ["S-0000001", "S-0000002"]
    inactive = ingress.http.get(ingress.url + "/solutions", params={"status": "Inactive"}).json()
    assert [s["id"] for s in inactive["solutions"]] == ["S-0000004"]
    seen: list[str] = []
    token = None
    while True:
        params = {"limit": 3, "status": "All", **({"nextToken": token} if token else {})}
        page = ingress.http.get(ingress.url + "/solutions", params=params).json()
        seen += [s["id"] for s in page["solutions"]]
        token = page["nextToken"]
        if not token:
            break
    assert sorted(seen) == sorted(s["Id"] for s in SOLUTIONS) and len(seen) == 5


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "active"}, "status"),
        ({"nextToken": "garbage!"}, "nextToken"),
        ({"color": "red"}, "unknown query parameter 'color'"),
    ],
)
def test_list_parameter_errors(make_ingress, params: dict[str, object], needle: str) -> None:
    ingress = make_ingress(solutions=ListSource(SOLUTIONS))
    response = ingress.http.get(ingress.url + "/solutions", params=params)
    assert response.status_code == 400 and needle in response.json()["error"]


def test_search_ranks_by_relevance(make_ingress) -> None:
    ingress = make_ingress(solutions=ListSource(SOLUTIONS))
    result = ingress.http.get(ingress.url + "/solutions/search", params={"q": "database migration"}).json()
    ids = [s["id"] for s in result["solutions"]]
    assert ids[0] == "S-0000001" and "S-0000005" in ids and "S-0000003" not in ids
    scores = [s["relevanceScore"] for s in result["solutions"]]
    assert scores == sorted(scores, reverse=True) and all(1 <= v <= 100 for v in scores)
    assert result["query"] == "database migration" and result["count"] == len(ids)
    assert ingress.http.get(ingress.url + "/solutions/search").status_code == 400
    assert ingress.http.get(ingress.url + "/solutions/search", params={"q": "  "}).status_code == 400


def test_get_solution_and_404(make_ingress) -> None:
    ingress = make_ingress(solutions=ListSource(SOLUTIONS))
    found = ingress.http.get(ingress.url + "/solutions/S-0000002").json()
    assert found["name"] == "MongoDB Atlas on AWS" and found["arn"].endswith("S-0000002")
    assert found["createdDate"] == "2024-01-02T00:00:00+00:00"
    missing = ingress.http.get(ingress.url + "/solutions/S-9")
    assert missing.status_code == 404 and "S-9" in missing.json()["error"]


class BrokenSource:
    """Partner Central refusing: the ingress answers 503 instead of failing."""

    def list_solutions(self) -> list[dict[str, object]]:
        raise ConnectionError("partner central unreachable")


def test_solutions_unavailable_is_503(make_ingress) -> None:
    ingress = make_ingress(solutions=BrokenSource())
    for path in ("/solutions", "/solutions/search?q=data", "/solutions/S-1"):
        response = ingress.http.get(ingress.url + path)
        assert response.status_code == 503 and "retry" in response.json()["error"]


def _schema_for(spec: dict, path: str, method: str, status: int) -> dict[str, object]:
    response = spec["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def test_openapi_describes_every_route_and_answers_match_it(make_ingress) -> None:
    ingress = make_ingress(solutions=ListSource(SOLUTIONS))
    served = ingress.http.get(ingress.url + "/openapi.json").json()
    assert served["openapi"].startswith("3.") and set(served["paths"]) == {
        "/healthz",
        "/openapi.json",
        "/webhook/hubspot",
        "/webhook/deal-update",
        "/submit-opportunity",
        "/submit-opportunity/{requestId}",
        "/deals/{dealId}/sync-status",
        "/solutions",
        "/solutions/search",
        "/solutions/{solutionId}",
    }
    resolver_base = {"components": served["components"]}
    accepted = ingress.http.post(ingress.url + "/submit-opportunity", json={"dealId": "7"})
    checks = [
        ("/healthz", "get", ingress.http.get(ingress.url + "/healthz")),
        ("/solutions", "get", ingress.http.get(ingress.url + "/solutions")),
        ("/solutions", "get", ingress.http.get(ingress.url + "/solutions?limit=0")),
        ("/solutions/search", "get", ingress.http.get(ingress.url + "/solutions/search?q=data")),
        ("/solutions/{solutionId}", "get", ingress.http.get(ingress.url + "/solutions/S-0000001")),
        ("/solutions/{solutionId}", "get", ingress.http.get(ingress.url + "/solutions/nope")),
        ("/submit-opportunity", "post", accepted),
        ("/submit-opportunity", "post", ingress.http.post(ingress.url + "/submit-opportunity", json={})),
        (
            "/submit-opportunity/{requestId}",
            "get",
            ingress.http.get(f"{ingress.url}/submit-opportunity/{accepted.json()['requestId']}"),
        ),
        ("/submit-opportunity/{requestId}", "get", ingress.http.get(ingress.url + "/submit-opportunity/x")),
        ("/deals/{dealId}/sync-status", "get", ingress.http.get(ingress.url + "/deals/7/sync-status")),
        ("/webhook/hubspot", "post", ingress.http.post(ingress.url + "/webhook/hubspot", json=[])),
    ]
    for path, method, response in checks:
        schema = _schema_for(served, path, method, response.status_code)
        # OpenAPI 3.0 "nullable" is not JSON Schema: validate with it spelled as a type union.
        jsonschema.validate(response.json(), _nullable_to_union({**schema, **resolver_base}))


def _nullable_to_union(node: object) -> object:
    if isinstance(node, dict):
        out = {k: _nullable_to_union(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [_nullable_to_union(v) for v in node]
    return node


def test_head_answers_like_get_and_stays_out_of_the_document(make_ingress) -> None:
    """Load balancers probe with HEAD: it answers on every GET route, as the Starlette routes did."""
    ingress = make_ingress()
    response = ingress.http.head(ingress.url + "/healthz")
    assert response.status_code == 200 and response.content == b""
    assert ingress.http.head(ingress.url + "/solutions?limit=0").status_code == 400
    assert ingress.http.head(ingress.url + "/webhook/hubspot").status_code == 405
    served = ingress.http.get(ingress.url + "/openapi.json").json()
    assert all(set(item) <= {"get", "post"} for item in served["paths"].values())
