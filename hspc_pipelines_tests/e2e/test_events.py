"""The event path end to end: signed webhook -> ingress -> SQS (moto) -> events_sensor -> scoped run,
and Partner Central events through the moto EventBridge rule (issue: event path)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import boto3
import dagster as dg
import pytest
import requests

from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.events.tick import Cursor, run_tick
from hspc_pipelines.hubspot.signatures import sign_v3
from hspc_pipelines.ingress.app import create_app
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines.queue.receive import EventsQueue
from hspc_pipelines.settings import load_settings
from hspc_pipelines_tests.support.ingress import API_TOKEN
from hspc_pipelines_tests.support.partner_central import create_request
from hspc_pipelines_tests.support.product import DEAL_ID, queue_depth, seed_deal
from hspc_pipelines_tests.support.webhooks import deal_creation_batch, now_ms, post_signed

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


class SensorDriver:
    """Evaluates events_sensor like the daemon does: tick, launch the run requests, keep the cursor."""

    def __init__(self, product: Any) -> None:
        self.product = product
        self.cursor: str | None = None
        self.launched: list[dg.RunRequest] = []

    def tick(self) -> list[dg.RunRequest]:
        sensor = self.product.defs.resolve_sensor_def("events_sensor")
        with dg.build_sensor_context(  # resources as the daemon binds them from the definitions
            instance=self.product.instance,
            cursor=self.cursor,
            definitions=self.product.defs,
            resources=self.product.defs.resources,
        ) as context:  # entered, as the daemon does: a resource may tear down (the quota meter's flush)
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        requests_ = list(result.run_requests or [])
        for rr in requests_:
            assert rr.run_key is not None, "events_sensor keys every run it requests"
            if self.product.instance.get_run_records(
                dg.RunsFilter(tags={"dagster/run_key": rr.run_key}), limit=1
            ):
                continue  # the daemon skips a run key it already launched
            job = self.product.defs.resolve_job_def(rr.job_name)
            tags = {**rr.tags, "dagster/run_key": rr.run_key, "dagster/sensor_name": "events_sensor"}
            run = job.execute_in_process(
                run_config=rr.run_config,
                instance=self.product.instance,
                tags=tags,
            )
            assert run.success
            self.launched.append(rr)
        return requests_


@pytest.fixture
def ingress(product):
    settings = IngressSettings(
        client_secret=product.stack.env["HUBSPOT_CLIENT_SECRET"],
        queue_url=product.stack.env["HSPC_EVENTS_QUEUE_URL"],
        api_token=API_TOKEN,
        # the state database the runs write to (HSPC_STATE_URL, else SQLite under DAGSTER_HOME)
        state_url=load_settings().state_url_or_default(str(product.home)),
    )
    sqs = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=product.stack.moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    server = serve_in_thread(create_app(settings, sqs_client=sqs))
    yield server.url
    server.stop()


def _webhook(deal_id=DEAL_ID, event_id=101) -> bytes:
    return deal_creation_batch([(deal_id, event_id)])


def test_signed_deal_creation_webhook_yields_exactly_one_opportunity_even_when_delivered_three_times(
    product, ingress
):
    seed_deal(product)
    secret = product.stack.env["HUBSPOT_CLIENT_SECRET"]
    body = _webhook()
    for _ in range(3):  # HubSpot retries: the same eventId three times
        assert post_signed(ingress, body, secret).status_code == 200
    driver = SensorDriver(product)
    first = driver.tick()
    assert [r.job_name for r in first] == ["sync_deals"]
    assert first[0].partition_key is None, "scoped work writes no partition of the reconcile assets"
    assert first[0].run_config["ops"]["scoped_snapshot"]["config"]["deal_ids"] == [DEAL_ID]
    # A later redelivery of the same event starts nothing new.
    assert post_signed(ingress, body, secret).status_code == 200
    driver.tick()
    driver.tick()
    by_webhook = [
        r
        for r in driver.launched
        if r.run_config["ops"]["scoped_snapshot"]["config"]["deal_ids"] == [DEAL_ID]
    ]
    assert len(by_webhook) == 1, "four deliveries of one webhook event: one run"
    # Partner Central's own "Opportunity Created" event for our create may start one scoped run too.
    assert all(
        r.run_config["ops"]["scoped_snapshot"]["config"]["deal_ids"] in ([DEAL_ID], [])
        for r in driver.launched
    )
    opps = [
        o for o in product.opportunities() if o.get("PartnerOpportunityIdentifier") == f"HUBSPOT-{DEAL_ID}"
    ]
    assert len(opps) == 1
    assert product.deal(DEAL_ID, "aws_opportunity_id")["aws_opportunity_id"] == opps[0]["Id"]
    assert queue_depth(product) == 0, "every message is deleted once its run is stored"


def test_tampered_wrong_secret_and_old_webhooks_are_401_and_enqueue_nothing(product, ingress):
    secret = product.stack.env["HUBSPOT_CLIENT_SECRET"]
    body = _webhook()
    good = post_signed(ingress, body, secret)
    assert good.status_code == 200
    sqs = product.stack.aws_client("sqs")
    sqs.purge_queue(QueueUrl=product.stack.env["HSPC_EVENTS_QUEUE_URL"])
    ts = str(now_ms())
    uri = f"{ingress}/webhook/hubspot"
    tampered = requests.post(
        uri,
        data=body.replace(b"7001", b"7002"),
        timeout=10,
        headers={
            "X-HubSpot-Signature-v3": sign_v3(secret, "POST", uri, body, ts),
            "X-HubSpot-Request-Timestamp": ts,
        },
    )
    wrong = post_signed(ingress, body, "not-the-secret")
    old = post_signed(ingress, body, secret, timestamp=now_ms() - 6 * 60 * 1000)
    assert [tampered.status_code, wrong.status_code, old.status_code] == [401, 401, 401]
    for resp in (tampered, wrong, old):
        assert "Traceback" not in resp.text and secret not in resp.text
    assert queue_depth(product) == 0


def test_aws_review_event_puts_status_and_comments_on_the_deal(product, ingress):
    seed_deal(product)
    driver = SensorDriver(product)
    assert post_signed(ingress, _webhook(), product.stack.env["HUBSPOT_CLIENT_SECRET"]).status_code == 200
    driver.tick()
    driver.tick()
    opp_id = product.deal(DEAL_ID, "aws_opportunity_id")["aws_opportunity_id"]
    assert opp_id
    pc_url = product.stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"]
    for status, comments in (
        ("Submitted", None),
        ("In review", None),
        ("Action Required", "Please add the customer's AWS account id"),
    ):
        body = {"ReviewStatus": status, **({"ReviewComments": comments} if comments else {})}
        requests.post(
            f"{pc_url}/_emulator/opportunities/{opp_id}/review", json=body, timeout=10
        ).raise_for_status()
    assert product.stack.partner_central.flush_events()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # EventBridge (moto) delivers to SQS asynchronously
        driver.tick()
        deal = product.deal(DEAL_ID, "aws_review_status", "aws_review_comments")
        if deal["aws_review_status"] == "Action Required":
            break
        time.sleep(0.5)
    assert deal["aws_review_status"] == "Action Required"
    assert deal["aws_review_comments"] == "Please add the customer's AWS account id"
    notes = [n["properties"] for n in product.notes_on(DEAL_ID)]
    action = [n for n in notes if n["hspc_note_key"].startswith(f"review:{opp_id}:Action Required")]
    assert len(action) == 1 and "AWS account id" in action[0]["hs_note_body"]
    scoped = [
        r
        for r in driver.launched
        if r.run_config["ops"]["scoped_snapshot"]["config"]["opportunity_ids"] == [opp_id]
    ]
    assert scoped, "the Partner Central event started a run scoped to its opportunity"


def test_invitation_event_leads_to_the_invitation_flow(product):
    pc_url = product.stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"]
    invitation = requests.post(
        f"{pc_url}/_emulator/invitations",
        timeout=10,
        json={
            "Payload": {
                "Customer": {
                    "CompanyName": "Globex",
                    "WebsiteUrl": "https://globex.example",
                    "CountryCode": "US",
                    "Industry": "Retail",
                },
                "Project": {
                    "Title": "Globex storefront modernisation",
                    "BusinessProblem": "Globex must replace its ageing storefront platform before peak.",
                },
            }
        },
    )
    invitation.raise_for_status()
    assert product.stack.partner_central.flush_events()
    driver = SensorDriver(product)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(r.job_name == "sync_invitations" for r in driver.launched):
        driver.tick()
        time.sleep(0.5)
    assert any(r.job_name == "sync_invitations" for r in driver.launched)
    found = product.hubspot(
        "POST",
        "/crm/v3/objects/deals/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "aws_invitation_id", "operator": "HAS_PROPERTY"}]}
            ],
            "properties": ["dealname", "aws_invitation_id", "aws_opportunity_id"],
        },
    )
    assert found["total"] == 1 and "#AWS" in found["results"][0]["properties"]["dealname"]


def test_poison_message_reaches_the_dlq_while_good_messages_are_processed(product):
    sqs = product.stack.aws_client("sqs")
    dlq = sqs.create_queue(QueueName="poison-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="poison-main",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="{not json")
    from hspc_pipelines.queue.envelope import HUBSPOT_WEBHOOK, encode_envelope

    good = encode_envelope(HUBSPOT_WEBHOOK, _webhook(event_id=555))
    sqs.send_message(QueueUrl=queue, MessageBody=good)
    events, cursor, runs, unusable = EventsQueue(queue, client=sqs), Cursor(), [], []
    stored: set[str] = set()  # run keys Dagster "holds": every requested run is stored at once here
    for _ in range(6):
        result = run_tick(events, cursor, run_exists=stored.__contains__, budget_seconds=2)
        stored |= {r.run_key for r in result.intents}
        runs += result.intents
        unusable += result.unusable
        cursor = result.cursor
        time.sleep(1.2)  # past the visibility timeout: unprocessed messages come back
    assert [r.job for r in runs] == ["sync_deals"], "the good message was processed once"
    assert len(unusable) == 3 and all("not JSON" in reason for _, reason in unusable)
    moved = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in moved] == ["{not json"]
    assert not sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages")


def test_opportunity_created_event_makes_the_deal(product):
    """A partner creates an opportunity in Partner Central: its "Opportunity Created" event starts a
    scoped run that makes its one deal, linked both ways (issue 15)."""
    request = create_request(title="Initech billing move")
    request.pop("PartnerOpportunityIdentifier")
    opp_id = product.pc().create_opportunity(**request)["Id"]
    assert product.stack.partner_central.flush_events()
    driver = SensorDriver(product)
    search = {
        "filterGroups": [
            {"filters": [{"propertyName": "aws_opportunity_id", "operator": "EQ", "value": opp_id}]}
        ],
        "properties": ["dealname"],
    }
    deals: list = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not deals:  # EventBridge (moto) delivers to SQS asynchronously
        driver.tick()
        deals = product.hubspot("POST", "/crm/v3/objects/deals/search", json=search)["results"]
        time.sleep(0.5)
    assert [d["properties"]["dealname"] for d in deals] == ["Initech billing move #AWS"]
    scoped = [
        r
        for r in driver.launched
        if r.run_config["ops"]["scoped_snapshot"]["config"]["opportunity_ids"] == [opp_id]
    ]
    assert scoped, "the event started a run scoped to its opportunity"
    record = product.pc().get_opportunity(Catalog="AWS", Identifier=opp_id)
    assert record["PartnerOpportunityIdentifier"] == f"HUBSPOT-{deals[0]['id']}"


def test_a_caller_follows_its_submit_request_and_the_deals_sync_status(product, ingress):
    """POST /submit-opportunity -> queue -> events_sensor -> submission run -> the answers the caller reads."""
    seed_deal(product)
    product.reconcile()  # the deal gets its opportunity
    opp_id = product.deal(DEAL_ID, "aws_opportunity_id")["aws_opportunity_id"]
    assert opp_id
    reconciled = requests.get(f"{ingress}/deals/{DEAL_ID}/sync-status", headers=AUTH, timeout=10).json()
    assert (reconciled["status"], reconciled["opportunityId"]) == ("created", opp_id)

    posted = requests.post(
        f"{ingress}/submit-opportunity",
        json={"dealId": DEAL_ID, "visibility": "Limited"},
        headers=AUTH,
        timeout=10,
    )
    assert posted.status_code == 202
    status_url = f"{ingress}/submit-opportunity/{posted.json()['requestId']}"
    assert requests.get(status_url, headers=AUTH, timeout=10).json()["status"] == "queued"

    driver = SensorDriver(product)
    # (Partner Central's own "Opportunity Created" event for the create may start a scoped reconcile too)
    assert [r.job_name for r in driver.tick()].count("submit_opportunity") == 1
    refused = requests.get(status_url, headers=AUTH, timeout=10).json()
    (submit_run,) = product.instance.get_runs(dg.RunsFilter(job_name="submit_opportunity"))
    assert (refused["status"], refused["runId"], refused["opportunityId"]) == (
        "validation_failed",
        submit_run.run_id,
        opp_id,
    )
    # every problem, field by field (the seeded deal says nothing of delivery, use case or needs)
    assert [p["field"] for p in refused["problems"]] == [
        "Project.DeliveryModels",
        "Project.CustomerUseCase",
        "PrimaryNeedsFromAws",
    ]
    assert all("required for submission" in p["problem"] for p in refused["problems"])
    deal_status = requests.get(f"{ingress}/deals/{DEAL_ID}/sync-status", headers=AUTH, timeout=10).json()
    assert (deal_status["status"], deal_status["operation"], deal_status["runId"]) == (
        "invalid",
        "submit",
        submit_run.run_id,
    )

    # the seller completes the deal; the reconcile sends it; the caller asks again and it is submitted
    product.hubspot(
        "PATCH",
        f"/crm/v3/objects/deals/{DEAL_ID}",
        json={
            "properties": {
                "aws_delivery_models": "SaaS or PaaS",
                "aws_use_case": "AI Machine Learning and Analytics",
                "aws_primary_needs": "Co-Sell - Architectural Validation",
            }
        },
    )
    product.reconcile()
    again = requests.post(
        f"{ingress}/submit-opportunity",
        json={"dealId": DEAL_ID, "visibility": "Limited"},
        headers=AUTH,
        timeout=10,
    )
    status_url = f"{ingress}/submit-opportunity/{again.json()['requestId']}"
    assert [r.job_name for r in driver.tick()].count("submit_opportunity") == 1
    answer = requests.get(status_url, headers=AUTH, timeout=10).json()
    assert (answer["status"], answer["opportunityId"], answer["problems"]) == ("submitted", opp_id, [])
    assert (answer["involvementType"], answer["visibility"], answer["reviewStatus"]) == (
        "Co-Sell",
        "Limited",
        "Submitted",
    )
    deal_status = requests.get(f"{ingress}/deals/{DEAL_ID}/sync-status", headers=AUTH, timeout=10).json()
    assert (deal_status["status"], deal_status["reviewStatus"], deal_status["runId"]) == (
        "submitted",
        "Submitted",
        answer["runId"],
    )

    # the next tick submits nothing again and writes nothing (Partner Central's "Opportunity Updated"
    # for the submission may start a scoped reconcile: it finds nothing to do); the answer stays
    writes = _hubspot_writes(product)
    assert "submit_opportunity" not in [r.job_name for r in driver.tick()]
    assert _hubspot_writes(product) == writes
    assert requests.get(status_url, headers=AUTH, timeout=10).json() == answer


def _hubspot_writes(product) -> dict[str, int]:
    """HubSpot calls that write (batch create/update/archive, PATCH, PUT, DELETE, single creates)."""
    write = re.compile(
        r"^(POST .*/batch/(create|update|archive)|PATCH |PUT |DELETE |POST /crm/(v3/objects|objects/[0-9-]+)/[^/]+$)"
    )
    return {k: v for k, v in product.hubspot_calls().items() if write.search(k)}
