"""PartnerCentralClient over the real AWS protocols.

Partner Central is played by a throwaway starlette app speaking AWS JSON 1.0 (or by the project's
emulator when present), STS by moto's server or by a throwaway app speaking the STS query protocol.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast
from urllib.parse import parse_qs

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.server import ThreadedMotoServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hspc_pipelines.emulators._server import free_port, serve_in_thread
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import AccessDeniedError, ConflictError, PartnerCentralError

BASE_KEY, BASE_SECRET = "AKIAIOSFODNN7EXAMPLE", "base-secret-wJalrXUtnFEMI"
ROLE_ARN = "arn:aws:iam::123456789012:role/hspc-partner-central"


def base_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=BASE_KEY, aws_secret_access_key=BASE_SECRET, region_name="us-east-1"
    )


class Seen:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[float, str, dict[str, Any], dict[str, str]]] = []

    def add(self, op: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self.lock:
            self.calls.append((time.monotonic(), op, body, headers))

    def ops(self) -> list[str]:
        return [c[1] for c in self.calls]

    def times(self, op: str) -> list[float]:
        return [c[0] for c in self.calls if c[1] == op]


def aws_error(code: str, message: str, status: int = 400, **extra: Any) -> Response:
    return JSONResponse(
        {"__type": code, "message": message, **extra}, status_code=status, headers={"x-amzn-ErrorType": code}
    )


Handler = Callable[[str, dict[str, Any], int], Response]


@pytest.fixture
def partner_central() -> Iterator[Callable[[Handler], tuple[str, Seen]]]:
    """partner_central(handler) -> (endpoint url, seen); handler(operation, body, attempt) -> Response."""
    servers = []

    def start(handler: Handler) -> tuple[str, Seen]:
        seen = Seen()

        async def endpoint(request: Request) -> Response:
            op = request.headers["x-amz-target"].split(".", 1)[1]
            body = json.loads(await request.body() or b"{}")
            seen.add(op, body, dict(request.headers))
            return handler(op, body, sum(1 for c in seen.calls if c[1] == op))

        server = serve_in_thread(Starlette(routes=[Route("/", endpoint, methods=["POST"])]))
        servers.append(server)
        return server.url, seen

    yield start
    for server in servers:
        server.stop()


def pc(url: str, **kw: Any) -> PartnerCentralClient:
    kw.setdefault("boto3_session", base_session())
    return PartnerCentralClient(kw.pop("catalog", "Sandbox"), endpoint_url=url, **kw)


def opportunity(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": body.get("Identifier", "O1"),
        "Catalog": body["Catalog"],
        "LastModifiedDate": "2026-01-02T03:04:05Z",
        "Project": {"Title": "t"},
    }


# -- calls, catalog, paging ---------------------------------------------------------------------


def test_catalog_is_added_and_response_metadata_stripped(partner_central):
    url, seen = partner_central(lambda op, body, n: JSONResponse(opportunity(body)))
    record = pc(url).get_opportunity("O123")
    assert seen.calls[0][2] == {"Catalog": "Sandbox", "Identifier": "O123"}
    assert "ResponseMetadata" not in record
    assert record["LastModifiedDate"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_list_opportunities_pages_and_asks_20_ids_at_a_time(partner_central):
    def handler(op: str, body: dict[str, Any], n: int) -> Response:
        ids = body.get("Identifier") or [f"O{i}" for i in range(250)]
        start = int(body.get("NextToken") or 0)
        page = ids[start : start + body["MaxResults"]]
        out: dict[str, Any] = {"OpportunitySummaries": [{"Id": i} for i in page]}
        if start + len(page) < len(ids):
            out["NextToken"] = str(start + len(page))
        return JSONResponse(out)

    url, seen = partner_central(handler)
    client = pc(url, reads_per_second=100)
    after, before = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert len(list(client.list_opportunities(after=after, before=before))) == 250
    assert [c[2]["MaxResults"] for c in seen.calls] == [100, 100, 100]
    assert seen.calls[0][2]["LastModifiedDate"] == {
        "AfterLastModifiedDate": "2026-01-01T00:00:00Z",
        "BeforeLastModifiedDate": "2026-01-02T00:00:00Z",
    }
    ids = [f"O{i}" for i in range(45)]
    assert [s["Id"] for s in client.list_opportunities(identifiers=ids)] == ids
    assert [len(c[2]["Identifier"]) for c in seen.calls[3:]] == [20, 20, 5]
    assert client.stats.calls["ListOpportunities"] == 6


def test_write_operations_are_paced(partner_central):
    url, seen = partner_central(lambda op, body, n: JSONResponse({}))
    client = pc(url, writes_per_second=5, reads_per_second=50)
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda i=i: client.associate_opportunity(f"O{i}", "S-1", "Solutions"))
        for i in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started >= 1.75
    stamps = sorted(seen.times("AssociateOpportunity"))
    assert len(stamps) == 10 and stamps[-1] - stamps[0] >= 1.7
    assert client.stats.writes() == 10  # what a run reports against the daily write quota
    started = time.monotonic()
    for _ in range(10):
        list(client.list_solutions())
    assert time.monotonic() - started < 1.0  # reads have their own quota (50/s here)


def test_throttling_is_retried_by_botocore_and_counted(partner_central):
    url, seen = partner_central(
        lambda op, body, n: (
            aws_error("ThrottlingException", "Rate exceeded")
            if n <= 2
            else JSONResponse({"SolutionSummaries": [{"Id": "S-1"}]})
        )
    )
    client = pc(url)
    assert [s["Id"] for s in client.list_solutions()] == ["S-1"]
    assert seen.ops() == ["ListSolutions"] * 3
    assert client.stats.calls["ListSolutions"] == 1 and client.stats.attempts["ListSolutions"] == 3
    # both throttling answers count (the ThrottledCalls metric), though the call succeeded
    assert client.stats.throttled["ListSolutions"] == 2 and client.stats.snapshot()["throttled"] == 2
    assert client.stats.writes() == 0  # a read: not against the write quota


# -- errors -------------------------------------------------------------------------------------


def test_validation_errors_are_shown_field_by_field(partner_central):
    url, _ = partner_central(
        lambda op, body, n: aws_error(
            "ValidationException",
            "Invalid request",
            Reason="BUSINESS_VALIDATION_FAILED",
            ErrorList=[
                {
                    "FieldName": "Customer.Account.Industry",
                    "Message": "Industry is not valid",
                    "Code": "INVALID_ENUM_VALUE",
                },
                {
                    "FieldName": "Project.ExpectedCustomerSpend[0].Frequency",
                    "Message": "must be Monthly",
                    "Code": "INVALID_VALUE",
                },
            ],
        )
    )
    client = pc(url)
    with pytest.raises(PartnerCentralError) as err:
        client.create_opportunity({"ClientToken": "t-1", "Customer": {"Account": {"CompanyName": "x"}}})
    e = err.value
    assert (e.operation, e.code, e.reason) == (
        "CreateOpportunity",
        "ValidationException",
        "BUSINESS_VALIDATION_FAILED",
    )
    assert [f.field for f in e.field_errors] == [
        "Customer.Account.Industry",
        "Project.ExpectedCustomerSpend[0].Frequency",
    ]
    assert "Customer.Account.Industry: Industry is not valid [INVALID_ENUM_VALUE]" in str(e)
    assert client.stats.errors["ValidationException"] == 1


def test_conflict_and_access_denied_have_their_own_classes(partner_central):
    def handler(op: str, body: dict[str, Any], n: int) -> Response:
        if op == "UpdateOpportunity":
            return aws_error("ConflictException", "LastModifiedDate does not match")
        return aws_error(
            "AccessDeniedException",
            "User is not authorized to perform partnercentral:GetOpportunity",
            status=403,
        )

    url, _ = partner_central(handler)
    client = pc(url)
    with pytest.raises(ConflictError, match="LastModifiedDate"):
        client.update_opportunity(
            {"Identifier": "O1", "LastModifiedDate": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
        )
    with pytest.raises(AccessDeniedError) as err:
        client.get_opportunity("O1")
    text = str(err.value)
    for hint in (
        "PARTNER_CENTRAL_ROLE_ARN",
        "trust policy",
        "PARTNER_CENTRAL_EXTERNAL_ID",
        "partnercentral:GetOpportunity",
    ):
        assert hint in text
    assert BASE_SECRET not in text


def test_catalog_must_be_aws_or_sandbox(monkeypatch):
    monkeypatch.setenv("PARTNER_CENTRAL_CATALOG", "Production")
    with pytest.raises(ValueError, match="'AWS' .*'Sandbox'"):
        PartnerCentralClient.from_env(boto3_session=base_session())


def test_from_env(monkeypatch, partner_central):
    url, seen = partner_central(lambda op, body, n: JSONResponse(opportunity(body)))
    monkeypatch.setenv("PARTNER_CENTRAL_CATALOG", "AWS")
    monkeypatch.setenv("AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING", url)
    monkeypatch.setenv("HSPC_PC_WRITES_PER_SECOND", "2.5")
    monkeypatch.delenv("PARTNER_CENTRAL_ROLE_ARN", raising=False)
    client = PartnerCentralClient.from_env(boto3_session=base_session())
    assert client.pacer.writes.interval == pytest.approx(0.4)
    client.get_opportunity("O9")
    assert seen.calls[0][2]["Catalog"] == "AWS"


# -- credentials --------------------------------------------------------------------------------


def signing_key(headers: dict[str, str]) -> str:
    found = re.search(r"Credential=([A-Z0-9]+)/", headers["authorization"])
    assert found, headers["authorization"]
    return found.group(1)


@pytest.fixture
def moto_sts(monkeypatch) -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url)
    yield url
    server.stop()


def test_assumed_role_signs_calls_and_refreshes_before_expiry(moto_sts, partner_central):
    url, seen = partner_central(lambda op, body, n: JSONResponse(opportunity(body)))
    # 15-minute credentials are inside botocore's refresh margin: every use fetches fresh ones
    short = pc(url, role_arn=ROLE_ARN, external_id="ext-1", role_session_duration=900)
    short.get_opportunity("O1")
    short.get_opportunity("O2")
    keys = [signing_key(c[3]) for c in seen.calls]
    assert all(k.startswith("ASIA") and k != BASE_KEY for k in keys)
    assert keys[0] != keys[1]
    assert all("x-amz-security-token" in c[3] for c in seen.calls)
    # one-hour credentials are reused
    hour = pc(url, role_arn=ROLE_ARN, external_id="ext-1")
    hour.get_opportunity("O3")
    hour.get_opportunity("O4")
    assert signing_key(seen.calls[2][3]) == signing_key(seen.calls[3][3])
    assert moto_sts  # STS calls went to moto


def sts_app(expected_external_id: str, seen: list[dict[str, list[str]]]) -> Starlette:
    """STS AssumeRole (query protocol) whose trust policy demands an ExternalId."""

    async def endpoint(request: Request) -> Response:
        params = parse_qs((await request.body()).decode())
        seen.append(params)
        if params.get("ExternalId") != [expected_external_id]:
            return Response(
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                "<Code>AccessDenied</Code><Message>User: arn:aws:iam::111111111111:user/etl is not authorized to "
                f"perform: sts:AssumeRole on resource: {ROLE_ARN}</Message></Error><RequestId>r1</RequestId>"
                "</ErrorResponse>",
                status_code=403,
                media_type="text/xml",
            )
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Response(
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
            "<Credentials><AccessKeyId>ASIATESTTESTTESTTEST</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>"
            f"<SessionToken>role-session-token</SessionToken><Expiration>{expires}</Expiration></Credentials>"
            f"<AssumedRoleUser><AssumedRoleId>AROATEST:hspc</AssumedRoleId><Arn>{ROLE_ARN}/hspc</Arn>"
            "</AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata>"
            "</AssumeRoleResponse>",
            media_type="text/xml",
        )

    return Starlette(routes=[Route("/", endpoint, methods=["POST"])])


def test_external_id_reaches_sts_and_a_wrong_one_says_what_to_fix(monkeypatch, partner_central):
    url, seen = partner_central(lambda op, body, n: JSONResponse(opportunity(body)))
    sts_seen: list[dict[str, list[str]]] = []
    with serve_in_thread(sts_app("ext-right", sts_seen)) as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        good = pc(url, role_arn=ROLE_ARN, external_id="ext-right")
        good.get_opportunity("O1")
        assert signing_key(seen.calls[0][3]) == "ASIATESTTESTTESTTEST"
        assert sts_seen[0]["RoleArn"] == [ROLE_ARN] and sts_seen[0]["ExternalId"] == ["ext-right"]

        wrong = pc(url, role_arn=ROLE_ARN, external_id="ext-wrong")
        with pytest.raises(AccessDeniedError) as err:
            wrong.get_opportunity("O1")
    text = str(err.value)
    assert err.value.operation == "AssumeRole" and "PARTNER_CENTRAL_EXTERNAL_ID" in text
    assert "role-secret" not in text and BASE_SECRET not in text and "ext-wrong" not in text
    assert len(seen.calls) == 1  # the refused role never reached Partner Central


# -- against the Partner Central emulator -------------------------------------------------------


def new_opportunity(n: int) -> dict[str, Any]:
    return {
        "Origin": "Partner Referral",
        "OpportunityType": "Net New Business",
        "NationalSecurity": "No",
        "PrimaryNeedsFromAws": ["Co-Sell - Architectural Validation"],
        "PartnerOpportunityIdentifier": f"HUBSPOT-{n}",
        "Customer": {
            "Account": {
                "CompanyName": f"Acme {n}",
                "Industry": "Software and Internet",
                "WebsiteUrl": "https://acme.example.com",
                "Address": {"CountryCode": "US", "PostalCode": "94105", "City": "SF"},
            }
        },
        "Project": {
            "Title": f"Acme migration {n}",
            "CustomerBusinessProblem": "Their database cannot keep up " * 2,
            "CustomerUseCase": "Migration / Database Migration",
            "DeliveryModels": ["SaaS or PaaS"],
            "ExpectedCustomerSpend": [
                {"Amount": "1000", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
            ],
        },
        "LifeCycle": {"Stage": "Prospect", "TargetCloseDate": "2027-01-31"},
    }


@pytest.fixture
def pc_emulator() -> Iterator[Any]:
    from hspc_pipelines.emulators.partner_central import start_partner_central_emulator

    emu, server = start_partner_central_emulator()
    cast(Any, emu).url = server.url  # the tests reach the emulator's URL through it
    yield emu
    server.stop()
    emu.close()


def update_request(record: dict[str, Any], client: PartnerCentralClient) -> dict[str, Any]:
    """The full record projected onto UpdateOpportunity's input (UpdateOpportunity replaces everything)."""
    shape = client.boto_client.meta.service_model.operation_model("UpdateOpportunity").input_shape
    assert shape is not None
    members = shape.members
    request = {k: v for k, v in record.items() if k in members and k != "Catalog"}
    request["Identifier"] = record["Id"]
    return request


def test_emulator_create_get_update_and_conflict(pc_emulator):
    client = pc(pc_emulator.url)
    created = client.create_opportunity({**new_opportunity(1), "ClientToken": "tok-1"})
    assert client.create_opportunity({**new_opportunity(1), "ClientToken": "tok-1"})["Id"] == created["Id"]
    record = client.get_opportunity(created["Id"])
    assert record["Project"]["Title"] == "Acme migration 1" and "ResponseMetadata" not in record
    stale = update_request(record, client)
    fresh = {**stale, "Project": {**record["Project"], "Title": "Acme migration, phase 2"}}
    client.update_opportunity(fresh)
    with pytest.raises(ConflictError) as err:
        client.update_opportunity(stale)  # LastModifiedDate moved with the first update
    assert err.value.code == "ConflictException" and "GetOpportunity" in str(err.value)
    assert client.get_opportunity(created["Id"])["Project"]["Title"] == "Acme migration, phase 2"
    assert client.stats.errors == {"ConflictException": 1}


def test_emulator_validation_errors_field_by_field(pc_emulator):
    client = pc(pc_emulator.url)
    bad = new_opportunity(2)
    bad["Customer"]["Account"]["Industry"] = "Widgets"
    with pytest.raises(PartnerCentralError) as err:
        client.create_opportunity({**bad, "ClientToken": "tok-2"})
    e = err.value
    assert e.code == "ValidationException" and e.reason == "REQUEST_VALIDATION_FAILED"
    assert [f.field for f in e.field_errors] == ["Customer.Account.Industry"]
    assert "Customer.Account.Industry: Value 'Widgets'" in str(e)


def test_emulator_access_denied(pc_emulator):
    pc_emulator.configure(denied=["GetOpportunity"])
    client = pc(pc_emulator.url)
    with pytest.raises(AccessDeniedError, match="partnercentral:GetOpportunity"):
        client.get_opportunity("O1")
    assert list(client.list_solutions()) == []  # only the denied action fails


def test_emulator_list_opportunities_by_window_and_ids(pc_emulator):
    seeded = pc_emulator.seed(
        {
            "opportunities": [
                {**new_opportunity(i), "LastModifiedDate": f"2026-01-01T{i % 24:02d}:00:00Z"}
                for i in range(240)
            ]
        }
    )
    ids = seeded["opportunities"]
    client = pc(pc_emulator.url, catalog="AWS", reads_per_second=200)
    assert sorted(s["Id"] for s in client.list_opportunities()) == sorted(ids)
    assert client.stats.calls["ListOpportunities"] == 3
    window = list(
        client.list_opportunities(
            after=dt.datetime(2026, 1, 1, 5, 30, tzinfo=dt.UTC),
            before=dt.datetime(2026, 1, 1, 8, 30, tzinfo=dt.UTC),
        )
    )
    assert len(window) == 30  # hours 6, 7 and 8, ten opportunities each
    wanted = ids[5:50]
    assert sorted(s["Id"] for s in client.list_opportunities(identifiers=wanted)) == sorted(wanted)
    assert client.stats.calls["ListOpportunities"] == 3 + 1 + 3  # 45 ids, 20 per call


def test_emulator_paced_writes_stay_under_its_quota(pc_emulator):
    seeded = pc_emulator.seed(
        {"solutions": [{"Name": f"S{i}"} for i in range(10)], "opportunities": [new_opportunity(1)]}
    )
    pc_emulator.configure(writes_per_second=5, reads_per_second=10)
    client = pc(pc_emulator.url, catalog="AWS", writes_per_second=5)
    opp = seeded["opportunities"][0]
    started = time.monotonic()
    failures: list[Exception] = []

    def associate(solution_id: str) -> None:
        try:
            client.associate_opportunity(opp, solution_id, "Solutions")
        except PartnerCentralError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=associate, args=(s,)) for s in seeded["solutions"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert time.monotonic() - started >= 1.75
    assert pc_emulator.stats()["errors"].get("ThrottlingException", 0) == 0
    assert sorted(client.get_opportunity(opp)["RelatedEntityIdentifiers"]["Solutions"]) == sorted(
        seeded["solutions"]
    )


def test_emulator_throttling_is_absorbed_by_adaptive_retries(pc_emulator):
    pc_emulator.seed({"solutions": [{"Name": "S"}]})
    pc_emulator.configure(reads_per_second=4)
    client = pc(
        pc_emulator.url, catalog="AWS", reads_per_second=100
    )  # pacing set far above the service's quota
    for _ in range(12):
        assert len(list(client.list_solutions())) == 1
    assert pc_emulator.stats()["errors"].get("ThrottlingException", 0) > 0
    assert client.stats.errors == {} and client.stats.calls["ListSolutions"] == 12
    assert client.stats.attempts["ListSolutions"] > 12
    # every retried attempt was a throttling answer: the client saw as many as the emulator sent
    assert client.stats.throttled["ListSolutions"] == pc_emulator.stats()["errors"]["ThrottlingException"]


def test_emulator_invitation_engagement_and_snapshot_operations(pc_emulator):
    client = pc(pc_emulator.url, catalog="AWS", reads_per_second=100, writes_per_second=100)
    invitation = pc_emulator.send_invitation()
    other = pc_emulator.send_invitation()
    pending = [s["Id"] for s in client.list_engagement_invitations(statuses=["PENDING"])]
    assert sorted(pending) == sorted([invitation, other])
    assert client.get_engagement_invitation(invitation)["Status"] == "PENDING"

    task = client.start_engagement_by_accepting_invitation_task(invitation, "accept-1")
    [summary] = client.list_engagement_by_accepting_invitation_tasks([task["TaskId"]])
    assert summary["TaskStatus"] == "COMPLETE"
    opportunity_id = summary["OpportunityId"]
    pc_emulator.set_summary(opportunity_id, {"Insights": {"EngagementScore": "High"}})
    assert client.get_aws_opportunity_summary(opportunity_id)["Insights"]["EngagementScore"] == "High"

    client.reject_engagement_invitation(other, "Customer is not a fit")
    assert client.get_engagement_invitation(other)["Status"] == "REJECTED"

    created = client.create_opportunity({**new_opportunity(7), "ClientToken": "tok-7"})
    [solution] = pc_emulator.seed({"solutions": [{"Name": "Migration Factory"}]})["solutions"]
    client.associate_opportunity(created["Id"], solution, "Solutions")
    task = client.start_engagement_from_opportunity_task(created["Id"], "submit-7")
    [summary] = client.list_engagement_from_opportunity_tasks([task["TaskId"]])
    assert summary["TaskStatus"] == "COMPLETE"
    engagement_id = summary["EngagementId"]
    assert [e["Id"] for e in client.list_engagements(opportunity_ids=[created["Id"]])] == [engagement_id]
    assert list(client.list_engagement_members(engagement_id))

    pc_emulator.publish_snapshot(created["Id"])
    [snap] = list(client.list_resource_snapshots(engagement_id))
    full = client.get_resource_snapshot(
        engagement_id, created["Id"], snap["ResourceSnapshotTemplateName"], snap["Revision"]
    )
    assert full["Payload"]["AwsOpportunitySummaryFullView"]["RelatedOpportunityId"] == created["Id"]
    assert client.stats.errors == {}


def test_emulator_associate_disassociate_and_submit(pc_emulator):
    client = pc(pc_emulator.url, catalog="AWS", writes_per_second=100)
    [solution] = pc_emulator.seed({"solutions": [{"Name": "Data Lake Kit"}]})["solutions"]
    opp = client.create_opportunity({**new_opportunity(8), "ClientToken": "tok-8"})["Id"]
    client.associate_opportunity(opp, solution, "Solutions")
    client.disassociate_opportunity(opp, solution, "Solutions")
    assert not client.get_opportunity(opp)["RelatedEntityIdentifiers"].get("Solutions")
    with pytest.raises(PartnerCentralError) as err:
        client.submit_opportunity(opp)
    assert "RelatedEntityIdentifiers.Solutions" in [f.field for f in err.value.field_errors]
    client.associate_opportunity(opp, solution, "Solutions")
    client.submit_opportunity(opp)
    assert client.get_opportunity(opp)["LifeCycle"]["ReviewStatus"] == "Submitted"
    assert client.stats.calls["SubmitOpportunity"] == 2


@settings(max_examples=500, deadline=None)
@given(
    moment=st.datetimes(
        min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
    ),
    style=st.sampled_from(["z_millis", "z_seconds", "offset", "micros", "epoch"]),
)
def test_fast_timestamp_parser_agrees_with_botocore(moment: dt.datetime, style: str) -> None:
    from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

    from hspc_pipelines.partner_central.client import parse_timestamp

    text: Any = {  # a string, or an int for epoch seconds
        "z_millis": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "z_seconds": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "offset": moment.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).isoformat(),
        "micros": moment.isoformat(),
        "epoch": int(moment.timestamp()),
    }[style]
    ours, theirs = parse_timestamp(text), DEFAULT_TIMESTAMP_PARSER(text)
    assert ours == theirs and ours.utcoffset() == theirs.utcoffset()
