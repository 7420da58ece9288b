"""`hspc doctor` against the emulator stack (HubSpot emulator, Partner Central emulator, moto's SQS and
EventBridge, SQLite state, a Dagster home): every check holds on a set-up stack; each check fails, with
what to do, when its part is broken; the exit status says which."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hspc_pipelines.cli import main
from hspc_pipelines.emulators.stack import HUBSPOT_CLIENT_ID, EmulatorStack
from hspc_pipelines.history import SyncHistory
from hspc_pipelines.history.records import HistoryEntry
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.portal_rules import refusal_from

CHECKS = 10


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorStack]:
    with EmulatorStack(deals=5) as stack:
        env = {**stack.env, "DAGSTER_HOME": str(tmp_path / "home"), "HSPC_EVENT_BUS_NAME": stack.event_bus}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        (tmp_path / "home").mkdir()
        yield stack


def _doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    status = main(["doctor"])
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines():
        if line.startswith(("ok ", "FAIL ")):
            name = line.split(None, 1)[1].split(":", 1)[0]
            lines[name] = line
    assert len(lines) == CHECKS, out
    return status, lines


def test_every_check_holds_on_a_set_up_stack(stack, capsys):
    env = stack.env
    bootstrap_properties(HubSpotClient(env["HUBSPOT_ACCESS_TOKEN"], env["HUBSPOT_BASE_URL"]))
    status, lines = _doctor(capsys)
    assert status == 0, "\n".join(lines.values())
    assert all(line.startswith("ok ") for line in lines.values())
    assert "all 8 scopes granted" in lines["hubspot token and scopes"]
    assert "empty: the first run creates its tables" in lines["state store"]
    assert "writable" in lines["asset store"]
    assert "not read (HSPC_HUBSPOT_EVENTS_SOURCE=queue" in lines["hubspot webhooks journal"]


def test_each_broken_part_fails_its_check_with_what_to_do(stack, capsys, monkeypatch, tmp_path):
    env = stack.env
    client = HubSpotClient(env["HUBSPOT_ACCESS_TOKEN"], env["HUBSPOT_BASE_URL"])
    # the Lambda system's portal: aws_engagement_score was a number
    client.request(
        "POST",
        client.paths.properties(),
        json={
            "name": "aws_engagement_score",
            "label": "AWS Engagement Score",
            "type": "number",
            "fieldType": "number",
            "groupName": "dealinformation",
        },
        object_type="deals",
    )
    stack.hubspot.configure(token_scopes=["crm.objects.deals.read", "crm.objects.contacts.read"])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("stage_maps:\n  sales-2026:\n    '123': Prospect\n")
    monkeypatch.setenv("HSPC_MAPPING_CONFIG", str(mapping))
    monkeypatch.setenv("AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("HSPC_EVENT_BUS_NAME", "default")  # the stack's rule is on its own bus
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE hspc_opportunity_cache (catalog TEXT, opportunity_id TEXT)")
    monkeypatch.setenv("HSPC_STATE_URL", f"sqlite:///{old}")
    # a run's write-back the portal's conditional rule refused (HubSpot 2026-09): the row and its reason
    refusal = refusal_from(
        {
            "category": "VALIDATION_ERROR",
            "errors": [
                {
                    "code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
                    "message": "closedate is required because of a conditional property rule based on [dealstage]",
                    "context": {"propertyName": ["closedate"]},
                }
            ],
        }
    )
    assert refusal is not None
    history = SyncHistory.from_url(f"sqlite:///{old}")
    history.append(
        [
            HistoryEntry(
                run_id="r1",
                job_name="reconcile",
                operation="write-back",
                status="invalid",
                deal_id="1",
                message=f"HTTP 400 VALIDATION_ERROR: {refusal.describe()}",
            )
        ]
    )
    history.dispose()
    (Path(env.get("DAGSTER_HOME") or tmp_path / "home") / "dagster.yaml").write_text(
        "run_storage: [not, a, map]\n"
    )
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    a_file = tmp_path / "outputs"
    a_file.write_text("a file where the store's folder should be")
    monkeypatch.setenv("HSPC_ASSET_STORE_URL", str(a_file / "store"))

    status, lines = _doctor(capsys)
    assert status == 1
    unused = lines.pop("hubspot webhooks journal")  # not read with the queue as source: nothing to break
    assert unused.startswith("ok ") and "not read" in unused
    assert all(line.startswith("FAIL ") for line in lines.values()), "\n".join(lines.values())
    token = lines["hubspot token and scopes"]
    assert "crm.objects.deals.write" in token and "Private apps" in token
    props = lines["hubspot properties"]
    assert "deals.aws_engagement_score (type number -> enumeration" in props and "--migrate" in props
    assert "pipeline sales-2026 does not exist" in lines["hubspot pipelines and stages"]
    assert "PARTNER_CENTRAL_ROLE_ARN" in lines["partner central"]
    assert "no EventBridge rule on bus default" in lines["events queue, dead-letter queue and rule"]
    assert "hspc_opportunity_cache lacks columns" in lines["state store"]
    rules = lines["hubspot validation rules"]
    assert "closedate (a conditional property rule, MISSING_CONDITIONAL_REQUIRED_PROPERTY): 1" in rules
    assert "dagster.yaml" in lines["dagster instance"]
    assert "cannot be written" in lines["asset store"] and "HSPC_ASSET_STORE_URL" in lines["asset store"]
    assert env["HUBSPOT_ACCESS_TOKEN"] not in "\n".join(lines.values())


def test_a_missing_dead_letter_queue_and_an_unreachable_database_fail(stack, capsys, monkeypatch, tmp_path):
    stack.aws_client("sqs").delete_queue(QueueUrl=stack.dlq_url)
    monkeypatch.setenv("HSPC_STATE_URL", "postgresql+psycopg2://postgres:s3cret@127.0.0.1:1/nothing")
    status, lines = _doctor(capsys)
    assert status == 1
    assert "dead-letter queue" in lines["events queue, dead-letter queue and rule"]
    assert lines["events queue, dead-letter queue and rule"].startswith("FAIL ")
    state = lines["state store"]
    assert state.startswith("FAIL ") and "HSPC_STATE_URL" in state and "s3cret" not in state
    assert lines["asset store"].startswith("ok ") and "writable" in lines["asset store"]


def test_the_readme_lists_every_scope_hspc_needs():
    from hspc_pipelines.doctor.scopes import REQUIRED_SCOPES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for scope, why in REQUIRED_SCOPES.items():
        assert f"| `{scope}` | {why} |" in readme, scope


def test_client_credentials_are_checked_by_obtaining_a_token_and_reading_the_crm(stack, capsys, monkeypatch):
    env = stack.env
    bootstrap_properties(HubSpotClient(env["HUBSPOT_ACCESS_TOKEN"], env["HUBSPOT_BASE_URL"]))
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", HUBSPOT_CLIENT_ID)
    status, lines = _doctor(capsys)
    token = lines["hubspot token and scopes"]
    assert status == 0, "\n".join(lines.values())
    assert "client-credentials token for HUBSPOT_CLIENT_ID=local-hubspot-client-id" in token
    assert "all 12 app scopes granted, CRM answers" in token
    assert stack.hubspot.stats()["tokens_issued"] == 1  # the three HubSpot checks share one token

    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "not-the-secret")
    status, lines = _doctor(capsys)
    token = lines["hubspot token and scopes"]
    assert status == 1 and token.startswith("FAIL ")
    assert "BAD_CLIENT_SECRET" in token and "Auth tab" in token and "not-the-secret" not in token


def test_a_service_key_is_checked_by_a_read_and_says_what_cannot_be_checked(stack, capsys, monkeypatch):
    monkeypatch.setenv("HSPC_HUBSPOT_AUTH", "service_key")
    _, lines = _doctor(capsys)
    token = lines["hubspot token and scopes"]
    assert token.startswith("ok ") and "scopes cannot be checked" in token and "no webhooks" in token
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "svc-not-a-key")
    _, lines = _doctor(capsys)
    token = lines["hubspot token and scopes"]
    assert token.startswith("FAIL ") and "HTTP 401" in token and "svc-not-a-key" not in token


def test_ambiguous_credentials_fail_the_hubspot_checks_naming_the_variables(stack, capsys, monkeypatch):
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", HUBSPOT_CLIENT_ID)
    status, lines = _doctor(capsys)
    assert status == 1
    for name in ("hubspot token and scopes", "hubspot properties", "hubspot pipelines and stages"):
        assert "ambiguous" in lines[name] and "HSPC_HUBSPOT_AUTH" in lines[name], lines[name]


def test_with_the_journal_as_source_the_deal_subscription_and_its_scopes_are_checked(
    stack, capsys, monkeypatch
):
    env = stack.env
    bootstrap_properties(HubSpotClient(env["HUBSPOT_ACCESS_TOKEN"], env["HUBSPOT_BASE_URL"]))
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", HUBSPOT_CLIENT_ID)
    monkeypatch.setenv("HSPC_HUBSPOT_EVENTS_SOURCE", "journal")
    monkeypatch.setenv("HSPC_JOURNAL_PORTAL_ID", str(stack.hubspot.state.portal_id))
    status, lines = _doctor(capsys)
    journal = lines["hubspot webhooks journal"]
    assert status == 1 and journal.startswith("FAIL ")
    assert "no webhooks-journal subscription for deals" in journal and "hspc bootstrap --journal" in journal

    assert main(["bootstrap", "--journal"]) == 0
    status, lines = _doctor(capsys)
    journal = lines["hubspot webhooks journal"]
    assert status == 0, "\n".join(lines.values())
    assert "journal scopes granted" in journal and "7 actions" in journal

    # Someone narrowed it to two properties: the check names what is missing.
    client = HubSpotClient.from_env()
    [sub] = client.journal_subscriptions()
    client.journal_subscribe(
        {k: sub[k] for k in ("subscriptionType", "portalId", "actions", "objectTypeId", "objectIds")}
        | {"properties": ["amount", "dealname"]}
    )
    status, lines = _doctor(capsys)
    journal = lines["hubspot webhooks journal"]
    assert status == 1 and "properties missing: " in journal and "dealstage" in journal
