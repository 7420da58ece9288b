"""GET /submit-opportunity/{requestId} and GET /deals/{dealId}/sync-status over HTTP, reading the state
database the runs write to (the run's side is written here with the same classes the runs use)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests

from hspc_pipelines.history import SyncHistory
from hspc_pipelines.history.records import HistoryEntry
from hspc_pipelines.mapping.vocabulary import SubmitRequestStatus
from hspc_pipelines.state.submit_requests import Problem, SubmitRequestLog

TOKEN = "api-token-5e0c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_a_submit_request_is_followed_from_queued_to_its_outcome(make_ingress, state_url: str) -> None:
    ingress = make_ingress(api_token=TOKEN)
    posted = ingress.http.post(
        ingress.url + "/submit-opportunity", json={"dealId": "42", "visibility": "Limited"}, headers=AUTH
    )
    assert posted.status_code == 202
    request_id = posted.json()["requestId"]
    status_url = f"{ingress.url}/submit-opportunity/{request_id}"

    queued = ingress.http.get(status_url, headers=AUTH).json()
    assert queued["status"] == "queued" and queued["dealId"] == "42"
    assert (queued["involvementType"], queued["visibility"]) == ("Co-Sell", "Limited")
    assert queued["problems"] == [] and queued["runId"] is None

    # what the submission run records (defs/cosell/assets.py), in the same database
    log = SubmitRequestLog.from_url(state_url)
    try:
        log.record(request_id, "42", SubmitRequestStatus.RUNNING, run_id="run-1")
        assert ingress.http.get(status_url, headers=AUTH).json()["status"] == "running"
        problems = [
            Problem("Customer.Account.WebsiteUrl", "required for submission to AWS"),
            Problem("Project.CustomerBusinessProblem", "at least 20 characters"),
        ]
        log.record(
            request_id,
            "42",
            SubmitRequestStatus.VALIDATION_FAILED,
            run_id="run-1",
            message="not submitted: 2 problem(s)",
            problems=problems,
            opportunity_id="O1234567",
        )
    finally:
        log.dispose()
    ended = ingress.http.get(status_url, headers=AUTH).json()
    assert ended["status"] == "validation_failed" and ended["runId"] == "run-1"
    assert ended["opportunityId"] == "O1234567"
    assert ended["problems"] == [
        {"field": "Customer.Account.WebsiteUrl", "problem": "required for submission to AWS"},
        {"field": "Project.CustomerBusinessProblem", "problem": "at least 20 characters"},
    ]
    # the ingress's `queued` never overwrites a status a run recorded
    log = SubmitRequestLog.from_url(state_url)
    try:
        log.queued(request_id, "42", "Co-Sell", "Limited")
        stored = log.get(request_id)
    finally:
        log.dispose()
    assert stored is not None and stored.status == SubmitRequestStatus.VALIDATION_FAILED


def test_unknown_and_malformed_request_ids(make_ingress) -> None:
    ingress = make_ingress(api_token=TOKEN)
    missing = ingress.http.get(f"{ingress.url}/submit-opportunity/{uuid.uuid4()}", headers=AUTH)
    assert missing.status_code == 404 and "no submit request" in missing.json()["error"]
    bad = ingress.http.get(f"{ingress.url}/submit-opportunity/not-a-uuid", headers=AUTH)
    assert bad.status_code == 400
    assert "requestId" in bad.json()["error"] and "'not-a-uuid'" in bad.json()["error"]


def test_sync_status_is_the_deals_latest_history_row(make_ingress, state_url: str) -> None:
    ingress = make_ingress(api_token=TOKEN)
    url = f"{ingress.url}/deals/77/sync-status"
    assert ingress.http.get(url, headers=AUTH).status_code == 404
    history = SyncHistory.from_url(state_url)
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    try:
        history.append(
            [
                HistoryEntry(
                    run_id="r1",
                    job_name="reconcile",
                    operation="create",
                    status="created",
                    deal_id="77",
                    opportunity_id="O77",
                    recorded_at=at,
                ),
                HistoryEntry(
                    run_id="r2",
                    job_name="reconcile",
                    operation="invalid",
                    status="invalid",
                    deal_id="77",
                    opportunity_id="O77",
                    reason_code="InvalidDeal",
                    message="closedate: required",
                    recorded_at=at + dt.timedelta(hours=1),
                ),
                HistoryEntry(
                    run_id="r3",
                    job_name="reconcile",
                    operation="create",
                    status="created",
                    deal_id="78",
                    recorded_at=at + dt.timedelta(hours=2),
                ),
            ]
        )
    finally:
        history.dispose()
    answer = ingress.http.get(url, headers=AUTH).json()
    assert answer == {
        "dealId": "77",
        "status": "invalid",
        "operation": "invalid",
        "opportunityId": "O77",
        "reviewStatus": None,
        "reasonCode": "InvalidDeal",
        "reason": "closedate: required",
        "runId": "r2",
        "jobName": "reconcile",
        "time": answer["time"],
    }
    assert dt.datetime.fromisoformat(answer["time"]).replace(tzinfo=dt.UTC) == at + dt.timedelta(hours=1)


@pytest.mark.parametrize("path", [f"/submit-opportunity/{uuid.UUID(int=7)}", "/deals/77/sync-status"])
def test_answers_need_the_bearer_token(make_ingress, path: str) -> None:
    ingress = make_ingress(api_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        # a bare client: the harness's session sends the token on every request
        response = requests.get(ingress.url + path, headers=headers, timeout=10)
        assert response.status_code == 401 and TOKEN not in response.text
    assert ingress.http.get(ingress.url + path, headers=AUTH).status_code == 404


def test_without_a_state_database_the_answers_say_so(make_ingress) -> None:
    ingress = make_ingress(state_url=None)
    for path in (f"/submit-opportunity/{uuid.UUID(int=7)}", "/deals/77/sync-status"):
        response = ingress.http.get(ingress.url + path)
        assert response.status_code == 503 and "HSPC_STATE_URL" in response.json()["error"]


def test_answer_routes_are_in_the_document(make_ingress) -> None:
    ingress = make_ingress()
    doc = ingress.http.get(ingress.url + "/openapi.json").json()
    for path in ("/submit-opportunity/{requestId}", "/deals/{dealId}/sync-status"):
        operation = doc["paths"][path]["get"]
        assert operation["security"] == [{"bearer": []}]
        assert {"200", "400", "401", "404", "503"} <= set(operation["responses"])
    statuses = doc["components"]["schemas"]["SubmitRequestStatus"]["enum"]
    assert statuses == [s.value for s in SubmitRequestStatus]
    assert "requestId" in doc["components"]["schemas"]["SubmitAccepted"]["required"]
