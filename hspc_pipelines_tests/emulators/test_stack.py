"""The local stack: Partner Central events reach the SQS queue through moto's EventBridge rule."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from hspc_pipelines.cli import build_parser
from hspc_pipelines.emulators.stack import MAX_RECEIVE_COUNT, EmulatorStack

PRODUCT_ENV = (
    "HUBSPOT_ACCESS_TOKEN",
    "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_BASE_URL",
    "PARTNER_CENTRAL_CATALOG",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING",
    "HSPC_EVENTS_QUEUE_URL",
    "HSPC_EVENTS_DLQ_URL",
)


@pytest.fixture  # one stack per test: events from one test must not reach the next one's queue
def stack() -> Iterator[EmulatorStack]:
    with EmulatorStack(deals=5, seed=3) as running:
        yield running


def receive_all(sqs: Any, queue_url: str, want: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < want and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_env_points_the_product_at_the_emulators(stack: EmulatorStack) -> None:
    assert set(PRODUCT_ENV) <= set(stack.env)
    assert all(
        stack.env[k].startswith("http://127.0.0.1:")
        for k in ("HUBSPOT_BASE_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING")
    )
    deals = requests.get(
        f"{stack.env['HUBSPOT_BASE_URL']}/crm/v3/objects/deals",
        timeout=5,
        headers={"Authorization": f"Bearer {stack.env['HUBSPOT_ACCESS_TOKEN']}"},
    )
    assert deals.status_code == 200 and len(deals.json()["results"]) == 5
    pc = boto3.client(
        "partnercentral-selling",
        endpoint_url=stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"],
        region_name=stack.env["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert len(pc.list_solutions(Catalog="AWS")["SolutionSummaries"]) == 3


def test_events_flow_through_eventbridge_rule_to_queue(stack: EmulatorStack) -> None:
    emulator = stack.partner_central
    assert emulator is not None
    pc = boto3.client(
        "partnercentral-selling",
        endpoint_url=stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    created = pc.create_opportunity(
        Catalog="AWS",
        ClientToken="stack-1",
        Customer={
            "Account": {
                "CompanyName": "Initech",
                "Industry": "Financial Services",
                "Address": {"CountryCode": "US"},
            }
        },
        Project={"Title": "Initech ledger"},
    )
    invitation = emulator.send_invitation()
    assert emulator.flush_events(10)
    sqs = stack.aws_client("sqs")
    bodies = receive_all(sqs, stack.queue_url, want=2)
    by_type = {b["detail-type"]: b for b in bodies}
    assert set(by_type) == {"Opportunity Created", "Engagement Invitation Created"}
    opportunity_event = by_type["Opportunity Created"]
    assert opportunity_event["source"] == "aws.partnercentral-selling"
    assert opportunity_event["detail"]["opportunity"]["identifier"] == created["Id"]
    assert opportunity_event["detail"]["catalog"] == "AWS"
    assert by_type["Engagement Invitation Created"]["detail"]["engagementInvitation"]["id"] == invitation


def test_a_stack_that_does_not_deliver_events_keeps_them_off_the_queue() -> None:
    with EmulatorStack(deliver_events=False) as quiet:
        assert quiet.partner_central is not None
        quiet.partner_central.send_invitation()
        assert quiet.partner_central.flush_events(5)
        assert [e["detail-type"] for e in quiet.partner_central.published_events()] == [
            "Engagement Invitation Created"
        ]
        sqs = quiet.aws_client("sqs")
        assert sqs.receive_message(QueueUrl=quiet.queue_url, WaitTimeSeconds=1).get("Messages") is None


def test_queue_redrives_to_dlq(stack: EmulatorStack) -> None:
    sqs = stack.aws_client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["RedrivePolicy", "Policy"]
    )
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    dlq_arn = sqs.get_queue_attributes(QueueUrl=stack.dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert redrive["deadLetterTargetArn"] == dlq_arn and int(redrive["maxReceiveCount"]) == MAX_RECEIVE_COUNT
    assert "events.amazonaws.com" in attributes["Attributes"]["Policy"]
    # A message nobody manages to process ends up in the DLQ after maxReceiveCount receives.
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody="poison")
    for _ in range(MAX_RECEIVE_COUNT):
        got = sqs.receive_message(QueueUrl=stack.queue_url, VisibilityTimeout=0, WaitTimeSeconds=1)
        assert got.get("Messages")
    assert not sqs.receive_message(QueueUrl=stack.queue_url, WaitTimeSeconds=1).get("Messages")
    dead = sqs.receive_message(QueueUrl=stack.dlq_url, WaitTimeSeconds=2).get("Messages", [])
    assert [m["Body"] for m in dead] == ["poison"]


def test_hspc_emulate_prints_exports(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    stop.set()  # as if Ctrl-C came right after start-up: the stack starts, prints, and shuts down
    args = build_parser().parse_args(["emulate", "--catalog", "Sandbox", "--deals", "2"])
    assert args.handler(args, stop) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "export PARTNER_CENTRAL_CATALOG=Sandbox" in lines
    assert any(line.startswith("export HSPC_EVENTS_QUEUE_URL=http://127.0.0.1:") for line in lines)
    assert all(line.startswith(("export ", "#")) for line in lines)
