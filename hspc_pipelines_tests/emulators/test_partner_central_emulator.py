"""The Partner Central emulator, driven with a plain boto3 client (and raw HTTP where botocore's own
client-side validation would get in the way)."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, cast

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hspc_pipelines.emulators.partner_central import PartnerCentralEmulator, start_partner_central_emulator
from hspc_pipelines.emulators.partner_central.validation import convert
from hspc_pipelines_tests.support.partner_central import create_request

TARGET = "AWSPartnerCentralSelling."


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[PartnerCentralEmulator, str]]:
    emulator, server = start_partner_central_emulator()
    yield emulator, server.url
    server.stop()
    emulator.close()


@pytest.fixture
def emu(running: tuple[PartnerCentralEmulator, str]) -> PartnerCentralEmulator:
    emulator, _ = running
    emulator.reset()
    emulator.configure(
        reads_per_second=None,
        writes_per_second=None,
        reads_per_day=None,
        writes_per_day=None,
        quota_window_seconds=86_400,
        task_delay_seconds=0.0,
        denied=False,
    )
    return emulator


@pytest.fixture
def url(running: tuple[PartnerCentralEmulator, str], emu: PartnerCentralEmulator) -> str:
    return running[1]


def make_client(url: str, attempts: int = 1) -> Any:
    return boto3.client(
        "partnercentral-selling",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


@pytest.fixture
def pc(url: str) -> Any:
    return make_client(url)


def raw(url: str, operation: str, body: Any, auth: bool = True) -> requests.Response:
    headers = {"X-Amz-Target": TARGET + operation, "Content-Type": "application/x-amz-json-1.0"}
    if auth:
        headers["Authorization"] = (
            "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/partnercentral-selling"
        )
    return requests.post(url + "/", data=json.dumps(body), headers=headers, timeout=10)


def update_request(pc: Any, opportunity: dict[str, Any]) -> dict[str, Any]:
    """The current record projected onto UpdateOpportunity's input, as a real client does."""
    members = pc.meta.service_model.operation_model("UpdateOpportunity").input_shape.members
    request = {k: copy.deepcopy(v) for k, v in opportunity.items() if k in members}
    request["Identifier"] = opportunity["Id"]
    return request


def error_response(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    """The error's whole body: Partner Central adds Reason and ErrorList, which boto3's stubs do not know."""
    return cast(dict[str, Any], exc.value.response)


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error_response(exc)["Error"]["Code"])


def create(pc: Any, **kw: Any) -> dict[str, Any]:
    created = pc.create_opportunity(**create_request(**kw))
    return pc.get_opportunity(Catalog=kw.get("catalog", "AWS"), Identifier=created["Id"])


def submittable(emu: PartnerCentralEmulator, pc: Any, catalog: str = "AWS") -> dict[str, Any]:
    opportunity = create(pc, catalog=catalog)
    solution = emu.seed({"solutions": [{"Name": "Platform", "Catalog": catalog}]})["solutions"][0]
    pc.associate_opportunity(
        Catalog=catalog,
        OpportunityIdentifier=opportunity["Id"],
        RelatedEntityType="Solutions",
        RelatedEntityIdentifier=solution,
    )
    return pc.get_opportunity(Catalog=catalog, Identifier=opportunity["Id"])


def submit(pc: Any, opportunity_id: str, catalog: str = "AWS") -> dict[str, Any]:
    return pc.start_engagement_from_opportunity_task(
        Catalog=catalog,
        ClientToken=str(uuid.uuid4()),
        Identifier=opportunity_id,
        AwsSubmission={"InvolvementType": "Co-Sell", "Visibility": "Full"},
    )


# Opportunities -------------------------------------------------------------------------------------
def test_create_get_roundtrip_and_ids(pc: Any) -> None:
    request = create_request()
    created = pc.create_opportunity(**request)
    assert created["Id"].startswith("O") and created["Id"][1:].isdigit()
    assert created["PartnerOpportunityIdentifier"] == "HUBSPOT-42"
    got = pc.get_opportunity(Catalog="AWS", Identifier=created["Id"])
    assert got["Customer"] == request["Customer"]
    assert got["Project"] == request["Project"]
    assert got["LifeCycle"]["ReviewStatus"] == "Pending Submission"
    assert got["LastModifiedDate"] == created["LastModifiedDate"] == got["CreatedDate"]
    assert (
        got["Arn"] == f"arn:aws:partnercentral:us-east-1:111122223333:catalog/AWS/opportunity/{created['Id']}"
    )
    assert got["RelatedEntityIdentifiers"]["Solutions"] == []
    assert "Origin" not in got  # not part of GetOpportunity's output shape


def test_get_unknown_is_not_found(pc: Any) -> None:
    with pytest.raises(ClientError) as exc:
        pc.get_opportunity(Catalog="AWS", Identifier="O999")
    assert code(exc) == "ResourceNotFoundException"
    assert error_response(exc)["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_client_token_idempotency_and_conflict(pc: Any) -> None:
    request = create_request(token="deal-1")
    first = pc.create_opportunity(**request)
    again = pc.create_opportunity(**request)
    assert again["Id"] == first["Id"] and again["LastModifiedDate"] == first["LastModifiedDate"]
    assert len(pc.list_opportunities(Catalog="AWS")["OpportunitySummaries"]) == 1
    changed = {**request, "PartnerOpportunityIdentifier": "HUBSPOT-43"}
    with pytest.raises(ClientError) as exc:
        pc.create_opportunity(**changed)
    assert code(exc) == "ConflictException"
    assert (
        error_response(exc)["Error"]["Message"] == "Conflicting client token submitted for a new request body"
    )
    assert error_response(exc)["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_update_replaces_whole_record_and_moves_last_modified(pc: Any) -> None:
    opportunity = create(pc)
    request = update_request(pc, opportunity)
    request["LifeCycle"]["Stage"] = "Technical Validation"
    del request["Customer"]["Contacts"]
    del request["PrimaryNeedsFromAws"]
    answer = pc.update_opportunity(**request)
    assert answer["LastModifiedDate"] > opportunity["LastModifiedDate"]
    got = pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])
    assert got["LifeCycle"]["Stage"] == "Technical Validation"
    assert "Contacts" not in got["Customer"] and "PrimaryNeedsFromAws" not in got
    assert got["LifeCycle"]["ReviewStatus"] == "Pending Submission"  # AWS's field survives the replace
    assert (
        got["CreatedDate"] == opportunity["CreatedDate"]
        and got["LastModifiedDate"] == answer["LastModifiedDate"]
    )


def test_update_with_stale_last_modified_date_conflicts(pc: Any) -> None:
    opportunity = create(pc)
    request = update_request(pc, opportunity)
    pc.update_opportunity(**request)
    with pytest.raises(ClientError) as exc:
        pc.update_opportunity(**request)  # still carries the old LastModifiedDate
    assert code(exc) == "ConflictException"


def test_update_unknown_is_not_found(pc: Any) -> None:
    request = update_request(pc, create(pc))
    request["Identifier"] = "O123"
    with pytest.raises(ClientError) as exc:
        pc.update_opportunity(**request)
    assert code(exc) == "ResourceNotFoundException"


def test_update_refused_while_submitted_and_title_frozen_after(
    emu: PartnerCentralEmulator, pc: Any, url: str
) -> None:
    opportunity = submittable(emu, pc)
    assert submit(pc, opportunity["Id"])["TaskStatus"] == "COMPLETE"
    current = pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])
    assert current["LifeCycle"]["ReviewStatus"] == "Submitted"
    with pytest.raises(ClientError) as exc:
        pc.update_opportunity(**update_request(pc, current))
    assert code(exc) == "ValidationException"
    assert error_response(exc)["Reason"] == "BUSINESS_VALIDATION_FAILED"
    assert error_response(exc)["ErrorList"][0]["FieldName"] == "LifeCycle.ReviewStatus"

    # AWS approves (control API over HTTP); updates are allowed again, but not to the title.
    reviewed = requests.post(
        f"{url}/_emulator/opportunities/{opportunity['Id']}/review",
        json={"ReviewStatus": "Approved", "ReviewComments": "Looks good"},
        timeout=5,
    )
    assert reviewed.status_code == 200
    current = pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])
    assert current["LifeCycle"]["ReviewComments"] == "Looks good"
    request = update_request(pc, current)
    request["Project"]["Title"] = "A new title"
    with pytest.raises(ClientError) as exc:
        pc.update_opportunity(**request)
    assert error_response(exc)["ErrorList"][0]["FieldName"] == "Project.Title"
    request["Project"]["Title"] = current["Project"]["Title"]
    request["LifeCycle"]["Stage"] = "Committed"
    pc.update_opportunity(**request)
    assert (
        pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])["LifeCycle"]["Stage"] == "Committed"
    )


def test_aws_catalog_refuses_review_status_but_sandbox_simulates_review(pc: Any) -> None:
    aws = create(pc)
    request = update_request(pc, aws)
    request["LifeCycle"]["ReviewStatus"] = "Approved"
    with pytest.raises(ClientError) as exc:
        pc.update_opportunity(**request)
    assert error_response(exc)["ErrorList"][0]["FieldName"] == "LifeCycle.ReviewStatus"

    sandbox = create(pc, catalog="Sandbox")
    request = update_request(pc, sandbox)
    request["LifeCycle"].update(ReviewStatus="Action Required", ReviewComments="Add a website")
    pc.update_opportunity(**request)
    got = pc.get_opportunity(Catalog="Sandbox", Identifier=sandbox["Id"])
    assert got["LifeCycle"]["ReviewStatus"] == "Action Required"
    assert got["LifeCycle"]["ReviewComments"] == "Add a website"
    # Now submitted: the title is frozen in Sandbox too.
    request = update_request(pc, got)
    request["Project"]["Title"] = "Changed"
    with pytest.raises(ClientError) as exc:
        pc.update_opportunity(**request)
    assert error_response(exc)["ErrorList"][0]["FieldName"] == "Project.Title"


def test_catalogs_are_kept_apart(pc: Any) -> None:
    sandbox = create(pc, catalog="Sandbox")
    assert pc.list_opportunities(Catalog="AWS")["OpportunitySummaries"] == []
    with pytest.raises(ClientError) as exc:
        pc.get_opportunity(Catalog="AWS", Identifier=sandbox["Id"])
    assert code(exc) == "ResourceNotFoundException"
    assert [s["Id"] for s in pc.list_opportunities(Catalog="Sandbox")["OpportunitySummaries"]] == [
        sandbox["Id"]
    ]
    with pytest.raises(ClientError) as exc:
        pc.list_opportunities(Catalog="Prod")
    assert error_response(exc)["ErrorList"][0]["FieldName"] == "Catalog"


def test_list_opportunities_summaries_filters_and_paging(pc: Any) -> None:
    ids = [create(pc)["Id"] for _ in range(25)]
    page = pc.list_opportunities(Catalog="AWS")
    assert len(page["OpportunitySummaries"]) == 20 and "NextToken" in page
    rest = pc.list_opportunities(Catalog="AWS", NextToken=page["NextToken"])
    assert len(rest["OpportunitySummaries"]) == 5 and "NextToken" not in rest
    seen = [s["Id"] for s in page["OpportunitySummaries"] + rest["OpportunitySummaries"]]
    assert sorted(seen) == sorted(ids)
    assert seen == sorted(ids, reverse=True)  # newest first by default
    summary = page["OpportunitySummaries"][0]
    assert "Title" not in summary["Project"] and "CustomerBusinessProblem" not in summary["Project"]
    assert "Contacts" not in summary["Customer"]
    assert summary["Customer"]["Account"]["CompanyName"] == "Acme Corp"

    middle = pc.get_opportunity(Catalog="AWS", Identifier=ids[10])["LastModifiedDate"]
    after = pc.list_opportunities(
        Catalog="AWS", MaxResults=100, LastModifiedDate={"AfterLastModifiedDate": middle}
    )
    assert sorted(s["Id"] for s in after["OpportunitySummaries"]) == sorted(ids[10:])
    before = pc.list_opportunities(
        Catalog="AWS", MaxResults=100, LastModifiedDate={"BeforeLastModifiedDate": middle}
    )
    assert sorted(s["Id"] for s in before["OpportunitySummaries"]) == sorted(ids[:10])
    by_id = pc.list_opportunities(Catalog="AWS", Identifier=ids[:3])
    assert {s["Id"] for s in by_id["OpportunitySummaries"]} == set(ids[:3])
    assert pc.list_opportunities(Catalog="AWS", LifeCycleStage=["Launched"])["OpportunitySummaries"] == []
    assert (
        len(
            pc.list_opportunities(Catalog="AWS", MaxResults=100, CustomerCompanyName=["acme corp"])[
                "OpportunitySummaries"
            ]
        )
        == 25
    )
    ascending = pc.list_opportunities(Catalog="AWS", Sort={"SortBy": "Identifier", "SortOrder": "ASCENDING"})
    assert [s["Id"] for s in ascending["OpportunitySummaries"]] == ids[:20]


def test_list_limits_validated(url: str) -> None:
    too_many = raw(url, "ListOpportunities", {"Catalog": "AWS", "Identifier": [f"O{i}" for i in range(21)]})
    assert too_many.status_code == 400
    assert too_many.json()["ErrorList"][0] == {
        "FieldName": "Identifier",
        "Code": "TOO_MANY_VALUES",
        "Message": "At most 20 values are allowed",
    }
    big_page = raw(url, "ListOpportunities", {"Catalog": "AWS", "MaxResults": 101})
    assert big_page.json()["ErrorList"][0]["FieldName"] == "MaxResults"


# Validation ----------------------------------------------------------------------------------------
def test_validation_names_each_field(url: str) -> None:
    body = create_request()
    body["Customer"]["Account"]["Industry"] = "Space Tourism"
    del body["Customer"]["Account"]["CompanyName"]
    body["Customer"]["Contacts"][0]["Email"] = "not an email"
    body["Project"]["ExpectedCustomerSpend"][0]["Frequency"] = "Yearly"
    body["LifeCycle"]["TargetCloseDate"] = "31/12/2030"
    body["Bogus"] = 1
    answer = raw(url, "CreateOpportunity", body)
    assert answer.status_code == 400
    data = answer.json()
    assert data["__type"] == "ValidationException" and data["Reason"] == "REQUEST_VALIDATION_FAILED"
    fields = {e["FieldName"]: e["Code"] for e in data["ErrorList"]}
    assert fields == {
        "Customer.Account.Industry": "INVALID_ENUM_VALUE",
        "Customer.Account.CompanyName": "REQUIRED_FIELD_MISSING",
        "Customer.Contacts[0].Email": "INVALID_STRING_FORMAT",
        "Project.ExpectedCustomerSpend[0].Frequency": "INVALID_ENUM_VALUE",
        "LifeCycle.TargetCloseDate": "INVALID_STRING_FORMAT",
        "Bogus": "INVALID_VALUE",
    }


def test_validation_error_reaches_boto3_with_error_list(pc: Any) -> None:
    with pytest.raises(ClientError) as exc:
        pc.get_opportunity(Catalog="AWS", Identifier="not-an-id")  # botocore does not check patterns
    assert code(exc) == "ValidationException"
    assert error_response(exc)["ErrorList"] == [
        {
            "FieldName": "Identifier",
            "Code": "INVALID_STRING_FORMAT",
            "Message": "Value does not match the pattern O[0-9]{1,19}",
        }
    ]


def test_protocol_errors(url: str) -> None:
    unknown = raw(url, "DeleteEverything", {})
    assert unknown.status_code == 400 and unknown.json()["__type"] == "UnknownOperationException"
    bad_json = requests.post(
        url + "/",
        data=b"{nope",
        timeout=5,
        headers={"X-Amz-Target": TARGET + "GetOpportunity", "Authorization": "x"},
    )
    assert bad_json.json()["__type"] == "SerializationException"
    assert requests.get(url + "/", timeout=5).status_code == 400


VALID = create_request(token="hypothesis")
PATHS = [
    ("Catalog",),
    ("ClientToken",),
    ("Origin",),
    ("OpportunityType",),
    ("NationalSecurity",),
    ("PartnerOpportunityIdentifier",),
    ("PrimaryNeedsFromAws",),
    ("Customer",),
    ("Customer", "Account"),
    ("Customer", "Account", "CompanyName"),
    ("Customer", "Account", "Industry"),
    ("Customer", "Account", "WebsiteUrl"),
    ("Customer", "Account", "Address", "CountryCode"),
    ("Customer", "Contacts"),
    ("LifeCycle", "Stage"),
    ("LifeCycle", "TargetCloseDate"),
    ("LifeCycle", "NextStepsHistory"),
    ("Project", "Title"),
    ("Project", "DeliveryModels"),
    ("Project", "ExpectedCustomerSpend"),
    ("Project", "CustomerBusinessProblem"),
    ("Marketing",),
    ("Tags",),
    ("Unknown",),
    ("Customer", "Account", "Extra"),
]
VALUES = st.one_of(
    st.just(None),  # None: remove the member
    st.text(max_size=30),
    st.integers(-5, 5),
    st.booleans(),
    st.sampled_from(["US", "Other", "Monthly", "No", "Prospect", "2030-01-01", "https://x.example"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.sampled_from(["Value", "Time", "Key"]), st.text(max_size=5), max_size=2),
    st.lists(st.dictionaries(st.sampled_from(["Value", "Time", "Key"]), st.text(max_size=5)), max_size=2),
)


def _mutate(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    node = out
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


def _botocore_fields(params: dict[str, Any]) -> set[str]:
    shape = boto3.session.Session().get_available_services() and None  # keep boto3 import used
    del shape
    from hspc_pipelines.emulators.partner_central import model

    input_shape = model.operation("CreateOpportunity").input_shape
    assert input_shape is not None
    report = ParamValidator().validate(convert(params, input_shape), input_shape)
    names = set()
    for _kind, name, details in report._errors:
        base = name.lstrip(".")
        extra = details.get("required_name") or details.get("unknown_param")
        names.add(f"{base}.{extra}".strip(".") if extra else base)
    return names


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_emulator_agrees_with_botocore_validator(
    url: str, mutations: list[tuple[tuple[str, ...], Any]]
) -> None:
    payload = VALID
    for path, value in mutations:
        payload = _mutate(payload, path, value)
    if "ClientToken" in payload and isinstance(payload["ClientToken"], str) and payload["ClientToken"]:
        payload["ClientToken"] = str(uuid.uuid4())  # fresh token: idempotency is not under test here
    expected = _botocore_fields(payload)
    answer = raw(url, "CreateOpportunity", payload)
    if answer.status_code == 200:
        assert not expected, f"emulator accepted what botocore rejects: {expected}"
    else:
        body = answer.json()
        assert answer.status_code == 400 and body["__type"] == "ValidationException", body
        assert expected <= {e["FieldName"] for e in body["ErrorList"]}


# Solutions and associations ------------------------------------------------------------------------
def test_solutions_associations_and_quota(emu: PartnerCentralEmulator, pc: Any) -> None:
    solutions = emu.seed(
        {"solutions": [{"Name": f"Solution {i}", "Category": "Software Product"} for i in range(11)]}
    )["solutions"]
    listed = pc.list_solutions(Catalog="AWS", MaxResults=100)["SolutionSummaries"]
    assert [s["Id"] for s in listed] == solutions and listed[0]["Status"] == "Active"
    assert pc.list_solutions(Catalog="Sandbox")["SolutionSummaries"] == []
    opportunity = create(pc)
    before = opportunity["LastModifiedDate"]
    for solution in solutions[:10]:
        pc.associate_opportunity(
            Catalog="AWS",
            OpportunityIdentifier=opportunity["Id"],
            RelatedEntityType="Solutions",
            RelatedEntityIdentifier=solution,
        )
    with pytest.raises(ClientError) as exc:
        pc.associate_opportunity(
            Catalog="AWS",
            OpportunityIdentifier=opportunity["Id"],
            RelatedEntityType="Solutions",
            RelatedEntityIdentifier=solutions[10],
        )
    assert code(exc) == "ServiceQuotaExceededException"
    got = pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])
    assert got["RelatedEntityIdentifiers"]["Solutions"] == solutions[:10]
    assert got["LastModifiedDate"] > before
    pc.disassociate_opportunity(
        Catalog="AWS",
        OpportunityIdentifier=opportunity["Id"],
        RelatedEntityType="Solutions",
        RelatedEntityIdentifier=solutions[0],
    )
    with pytest.raises(ClientError) as exc:
        pc.disassociate_opportunity(
            Catalog="AWS",
            OpportunityIdentifier=opportunity["Id"],
            RelatedEntityType="Solutions",
            RelatedEntityIdentifier=solutions[0],
        )
    assert code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        pc.associate_opportunity(
            Catalog="AWS",
            OpportunityIdentifier=opportunity["Id"],
            RelatedEntityType="Solutions",
            RelatedEntityIdentifier="S-9999999",
        )
    assert code(exc) == "ResourceNotFoundException"
    pc.associate_opportunity(
        Catalog="AWS",
        OpportunityIdentifier=opportunity["Id"],
        RelatedEntityType="AwsProducts",
        RelatedEntityIdentifier="AmazonS3",
    )
    got = pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])
    assert got["RelatedEntityIdentifiers"]["AwsProducts"] == ["AmazonS3"]


# Submission ----------------------------------------------------------------------------------------
def test_submission_task_finishes_after_delay(emu: PartnerCentralEmulator, pc: Any) -> None:
    opportunity = submittable(emu, pc)
    emu.configure(task_delay_seconds=0.3)
    task = submit(pc, opportunity["Id"])
    assert task["TaskStatus"] == "IN_PROGRESS" and task["TaskId"].startswith("task-")
    listed = pc.list_engagement_from_opportunity_tasks(Catalog="AWS", TaskIdentifier=[task["TaskId"]])
    assert listed["TaskSummaries"][0]["TaskStatus"] == "IN_PROGRESS"
    assert pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])["LifeCycle"]["ReviewStatus"] == (
        "Pending Submission"
    )
    time.sleep(0.4)
    done = pc.list_engagement_from_opportunity_tasks(Catalog="AWS", TaskIdentifier=[task["TaskArn"]])
    summary = done["TaskSummaries"][0]
    assert summary["TaskStatus"] == "COMPLETE" and summary["EngagementId"].startswith("eng-")
    assert (
        pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])["LifeCycle"]["ReviewStatus"]
        == "Submitted"
    )
    aws = pc.get_aws_opportunity_summary(Catalog="AWS", RelatedOpportunityIdentifier=opportunity["Id"])
    assert (
        aws["InvolvementType"] == "Co-Sell"
        and aws["Visibility"] == "Full"
        and aws["Origin"] == "Partner Referral"
    )
    associations = pc.list_engagement_resource_associations(
        Catalog="AWS", ResourceIdentifier=opportunity["Id"]
    )
    assert (
        associations["EngagementResourceAssociationSummaries"][0]["EngagementId"] == summary["EngagementId"]
    )
    members = pc.list_engagement_members(Catalog="AWS", Identifier=summary["EngagementId"])[
        "EngagementMemberList"
    ]
    assert members[0]["AccountId"] == "111122223333"


def test_submission_task_fails_on_incomplete_opportunity(pc: Any) -> None:
    opportunity = create(pc)  # no solution associated
    task = submit(pc, opportunity["Id"])
    assert task["TaskStatus"] == "FAILED" and task["ReasonCode"] == "OpportunityValidationFailed"
    assert "RelatedEntityIdentifiers.Solutions" in task["Message"]
    assert pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])["LifeCycle"]["ReviewStatus"] == (
        "Pending Submission"
    )


def test_submit_opportunity_and_summary_before_and_after(
    emu: PartnerCentralEmulator, pc: Any, url: str
) -> None:
    opportunity = submittable(emu, pc)
    with pytest.raises(ClientError) as exc:
        pc.get_aws_opportunity_summary(Catalog="AWS", RelatedOpportunityIdentifier=opportunity["Id"])
    assert code(exc) == "ResourceNotFoundException"
    pc.submit_opportunity(
        Catalog="AWS",
        Identifier=opportunity["Id"],
        InvolvementType="For Visibility Only",
        Visibility="Limited",
    )
    with pytest.raises(ClientError) as exc:
        pc.submit_opportunity(Catalog="AWS", Identifier=opportunity["Id"], InvolvementType="Co-Sell")
    assert code(exc) == "ValidationException"
    summary = {
        "Insights": {"EngagementScore": "High", "NextBestActions": "Book a call"},
        "OpportunityTeam": [
            {"FirstName": "Sam", "LastName": "Rep", "Email": "sam@amazon.com", "BusinessTitle": "AWSSalesRep"}
        ],
        "LifeCycle": {"Stage": "Qualify", "NextSteps": "Architecture review"},
    }
    assert (
        requests.post(
            f"{url}/_emulator/opportunities/{opportunity['Id']}/summary", json=summary, timeout=5
        ).status_code
        == 200
    )
    bad = requests.post(
        f"{url}/_emulator/opportunities/{opportunity['Id']}/summary",
        json={"Insights": {"EngagementScore": "97"}},
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["ErrorList"][0]["FieldName"] == "Insights.EngagementScore"
    aws = pc.get_aws_opportunity_summary(Catalog="AWS", RelatedOpportunityIdentifier=opportunity["Id"])
    assert aws["Insights"] == summary["Insights"] and aws["OpportunityTeam"] == summary["OpportunityTeam"]
    assert aws["InvolvementType"] == "For Visibility Only" and aws["Visibility"] == "Limited"
    assert aws["LifeCycle"]["Stage"] == "Qualify"
    assert aws["RelatedEntityIds"]["Solutions"] == opportunity["RelatedEntityIdentifiers"]["Solutions"]


def test_assign_opportunity(pc: Any) -> None:
    opportunity = create(pc)
    assignee = {
        "FirstName": "Kim",
        "LastName": "Lee",
        "Email": "kim@partner.example.com",
        "BusinessTitle": "PDM",
    }
    pc.assign_opportunity(Catalog="AWS", Identifier=opportunity["Id"], Assignee=assignee)
    assert pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])["OpportunityTeam"] == [assignee]


def test_close_lost_by_aws(emu: PartnerCentralEmulator, pc: Any, url: str) -> None:
    opportunity = create(pc)
    answer = requests.post(
        f"{url}/_emulator/opportunities/{opportunity['Id']}/close-lost",
        json={"ClosedLostReason": "Customer Deficiency"},
        timeout=5,
    )
    assert answer.status_code == 200
    got = pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])
    assert (
        got["LifeCycle"]["Stage"] == "Closed Lost"
        and got["LifeCycle"]["ClosedLostReason"] == "Customer Deficiency"
    )


# Invitations ---------------------------------------------------------------------------------------
INVITATION = {
    "Customer": {
        "CompanyName": "Globex",
        "Industry": "Retail",
        "WebsiteUrl": "https://globex.example.com",
        "CountryCode": "DE",
    },
    "Project": {
        "Title": "Globex analytics",
        "BusinessProblem": "Globex wants real-time stock analytics on AWS.",
        "TargetCompletionDate": "2031-03-31",
        "ExpectedCustomerSpend": [
            {"Amount": "9000", "CurrencyCode": "EUR", "Frequency": "Monthly", "TargetCompany": "AWS"}
        ],
    },
    "ReceiverResponsibilities": ["Software Partner"],
    "SenderContacts": [
        {"Email": "ana@amazon.com", "FirstName": "Ana", "LastName": "Ito", "BusinessTitle": "AM"}
    ],
}


def test_invitation_accepted_through_task(emu: PartnerCentralEmulator, pc: Any, url: str) -> None:
    sent = requests.post(
        f"{url}/_emulator/invitations",
        timeout=5,
        json={
            "Payload": INVITATION,
            "CustomerContacts": [{"FirstName": "Eve", "Email": "eve@globex.example.com"}],
        },
    )
    invitation_id = sent.json()["Id"]
    assert invitation_id.startswith("engi-") and len(invitation_id) == 18
    listed = pc.list_engagement_invitations(
        Catalog="AWS", ParticipantType="RECEIVER", PayloadType=["OpportunityInvitation"], Status=["PENDING"]
    )
    assert [i["Id"] for i in listed["EngagementInvitationSummaries"]] == [invitation_id]
    assert (
        pc.list_engagement_invitations(Catalog="AWS", ParticipantType="SENDER")[
            "EngagementInvitationSummaries"
        ]
        == []
    )
    invitation = pc.get_engagement_invitation(Catalog="AWS", Identifier=invitation_id)
    assert invitation["Payload"]["OpportunityInvitation"]["Customer"]["CompanyName"] == "Globex"
    assert invitation["Status"] == "PENDING" and invitation["SenderCompanyName"] == "Amazon Web Services"

    emu.configure(task_delay_seconds=0.2)
    task = pc.start_engagement_by_accepting_invitation_task(
        Catalog="AWS", ClientToken="accept-1", Identifier=invitation_id
    )
    assert task["TaskStatus"] == "IN_PROGRESS" and "OpportunityId" not in task
    time.sleep(0.3)
    done = pc.list_engagement_by_accepting_invitation_tasks(Catalog="AWS", TaskIdentifier=[task["TaskId"]])
    summary = done["TaskSummaries"][0]
    assert summary["TaskStatus"] == "COMPLETE"
    opportunity = pc.get_opportunity(Catalog="AWS", Identifier=summary["OpportunityId"])
    assert opportunity["Project"]["Title"] == "Globex analytics"
    assert opportunity["Customer"]["Account"]["Address"]["CountryCode"] == "DE"
    assert opportunity["Customer"]["Contacts"] == [{"FirstName": "Eve", "Email": "eve@globex.example.com"}]
    assert opportunity["LifeCycle"]["TargetCloseDate"] == "2031-03-31"
    aws = pc.get_aws_opportunity_summary(Catalog="AWS", RelatedOpportunityIdentifier=opportunity["Id"])
    assert aws["Origin"] == "AWS Referral" and aws["OpportunityTeam"][0]["Email"] == "ana@amazon.com"
    assert pc.get_engagement_invitation(Catalog="AWS", Identifier=invitation_id)["Status"] == "ACCEPTED"
    engagement_id = invitation["EngagementId"]
    members = pc.list_engagement_members(Catalog="AWS", Identifier=engagement_id)["EngagementMemberList"]
    assert {m["AccountId"] for m in members} == {"aws", "111122223333"}
    # The same token with the same body answers the first task again; a second accept task fails.
    again = pc.start_engagement_by_accepting_invitation_task(
        Catalog="AWS", ClientToken="accept-1", Identifier=invitation_id
    )
    assert again["TaskId"] == task["TaskId"]
    emu.configure(task_delay_seconds=0)
    late = pc.start_engagement_by_accepting_invitation_task(
        Catalog="AWS", ClientToken="accept-2", Identifier=invitation_id
    )
    assert late["TaskStatus"] == "FAILED" and late["ReasonCode"] == "EngagementInvitationConflict"


def test_invitation_reject_and_accept_operations(emu: PartnerCentralEmulator, pc: Any) -> None:
    rejected = emu.send_invitation(INVITATION)
    pc.reject_engagement_invitation(Catalog="AWS", Identifier=rejected, RejectionReason="Customer not a fit")
    got = pc.get_engagement_invitation(Catalog="AWS", Identifier=rejected)
    assert got["Status"] == "REJECTED" and got["RejectionReason"] == "Customer not a fit"
    with pytest.raises(ClientError) as exc:
        pc.accept_engagement_invitation(Catalog="AWS", Identifier=rejected)
    assert code(exc) == "ConflictException"
    accepted = emu.send_invitation(INVITATION, catalog="Sandbox")
    with pytest.raises(ClientError) as exc:
        pc.get_engagement_invitation(Catalog="AWS", Identifier=accepted)
    assert code(exc) == "ResourceNotFoundException"
    pc.accept_engagement_invitation(Catalog="Sandbox", Identifier=accepted)
    assert pc.get_engagement_invitation(Catalog="Sandbox", Identifier=accepted)["Status"] == "ACCEPTED"
    assert len(pc.list_opportunities(Catalog="Sandbox")["OpportunitySummaries"]) == 1
    expired = emu.send_invitation(INVITATION, expires_in_days=-1)
    assert pc.get_engagement_invitation(Catalog="AWS", Identifier=expired)["Status"] == "EXPIRED"


# Engagements and snapshots --------------------------------------------------------------------------
def test_resource_snapshots(emu: PartnerCentralEmulator, pc: Any, url: str) -> None:
    opportunity = submittable(emu, pc)
    engagement_id = submit(pc, opportunity["Id"])["EngagementId"]
    emu.set_summary(opportunity["Id"], {"Insights": {"EngagementScore": "Medium"}})
    first = requests.post(f"{url}/_emulator/engagements/{engagement_id}/snapshots", json={}, timeout=5).json()
    second = requests.post(
        f"{url}/_emulator/opportunities/{opportunity['Id']}/snapshots",
        json={"Template": "OpportunitySummaryView"},
        timeout=5,
    ).json()
    assert first["Revision"] == 1 and second["Revision"] == 1
    listed = pc.list_resource_snapshots(Catalog="AWS", EngagementIdentifier=engagement_id)
    assert {s["ResourceSnapshotTemplateName"] for s in listed["ResourceSnapshotSummaries"]} == {
        "AwsOpportunitySummaryFullView",
        "OpportunitySummaryView",
    }
    got = pc.get_resource_snapshot(
        Catalog="AWS",
        EngagementIdentifier=engagement_id,
        ResourceType="Opportunity",
        ResourceIdentifier=opportunity["Id"],
        ResourceSnapshotTemplateIdentifier="AwsOpportunitySummaryFullView",
    )
    assert got["Payload"]["AwsOpportunitySummaryFullView"]["Insights"]["EngagementScore"] == "Medium"
    view = pc.get_resource_snapshot(
        Catalog="AWS",
        EngagementIdentifier=engagement_id,
        ResourceType="Opportunity",
        ResourceIdentifier=opportunity["Id"],
        ResourceSnapshotTemplateIdentifier="OpportunitySummaryView",
    )
    assert view["Payload"]["OpportunitySummary"]["Lifecycle"]["ReviewStatus"] == "Submitted"
    with pytest.raises(ClientError) as exc:
        pc.get_resource_snapshot(
            Catalog="AWS",
            EngagementIdentifier=engagement_id,
            ResourceType="Opportunity",
            ResourceIdentifier=opportunity["Id"],
            ResourceSnapshotTemplateIdentifier="OpportunitySummaryView",
            Revision=2,
        )
    assert code(exc) == "ResourceNotFoundException"
    engagements = pc.list_engagements(Catalog="AWS", EngagementIdentifier=[engagement_id])[
        "EngagementSummaryList"
    ]
    assert engagements[0]["MemberCount"] == 1


# Quotas, faults, access --------------------------------------------------------------------------------
def test_write_quota_throttles(emu: PartnerCentralEmulator, pc: Any) -> None:
    emu.configure(writes_per_second=1)
    pc.create_opportunity(**create_request())
    with pytest.raises(ClientError) as exc:
        pc.create_opportunity(**create_request())
    assert code(exc) == "ThrottlingException"
    pc.list_opportunities(Catalog="AWS")  # reads have their own bucket
    time.sleep(1.05)
    pc.create_opportunity(**create_request())
    assert emu.stats()["errors_by_operation"]["CreateOpportunity"] == {"ThrottlingException": 1}


def test_the_rolling_24_hour_write_quota_throttles_until_the_window_rolls(
    emu: PartnerCentralEmulator, pc: Any
) -> None:
    # a day scaled to 1.5 s, as benchmarks scale it
    emu.configure(writes_per_day=2, quota_window_seconds=1.5)
    pc.create_opportunity(**create_request())
    pc.create_opportunity(**create_request())
    with pytest.raises(ClientError) as exc:
        pc.create_opportunity(**create_request())
    assert code(exc) == "ThrottlingException"
    assert "2 write operations per rolling 24 hours" in exc.value.response["Error"]["Message"]
    pc.list_opportunities(Catalog="AWS")  # reads have their own quota
    assert emu.stats()["quota_used"] == {"read": 1, "write": 2}  # the refused call is not counted
    time.sleep(1.6)
    pc.create_opportunity(**create_request())
    assert emu.stats()["quota_used"]["write"] == 1


def test_the_read_quota_and_quota_spent_by_someone_else(emu: PartnerCentralEmulator, url: str) -> None:
    pc = make_client(url)
    config = requests.post(
        f"{url}/_emulator/config", json={"reads_per_day": 3, "writes_per_day": 10}, timeout=5
    ).json()
    assert (config["reads_per_day"], config["writes_per_day"], config["quota_window_seconds"]) == (
        3,
        10,
        86_400,
    )
    spent = requests.post(f"{url}/_emulator/quota", json={"reads": 2, "writes": 10}, timeout=5).json()
    assert spent == {"read": 2, "write": 10}
    with pytest.raises(ClientError) as exc:
        pc.create_opportunity(**create_request())
    assert code(exc) == "ThrottlingException"
    pc.list_opportunities(Catalog="AWS")
    with pytest.raises(ClientError) as exc:
        pc.list_opportunities(Catalog="AWS")
    assert "3 read operations per rolling 24 hours" in exc.value.response["Error"]["Message"]
    assert emu.stats()["errors"] == {"ThrottlingException": 2}
    emu.reset()  # forgets the spent quota, keeps the limits
    assert requests.get(f"{url}/_emulator/quota", timeout=5).json() == {"read": 0, "write": 0}
    assert emu.config()["writes_per_day"] == 10


def test_boto3_retries_through_injected_faults(emu: PartnerCentralEmulator, url: str) -> None:
    emu.set_faults(schedule=["ThrottlingException", "InternalServerException", "ok"])
    client = make_client(url, attempts=5)
    answer = client.list_opportunities(Catalog="AWS")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    stats = requests.get(f"{url}/_emulator/stats", timeout=5).json()
    assert stats["errors"] == {"ThrottlingException": 1, "InternalServerException": 1}
    assert stats["calls"]["ListOpportunities"] == 3


def test_fault_rate_and_http_statuses(url: str) -> None:
    assert (
        requests.post(
            f"{url}/_emulator/faults",
            json={
                "rate": 1.0,
                "kinds": ["InternalServerException"],
                "operations": ["GetOpportunity"],
                "seed": 1,
            },
            timeout=5,
        ).status_code
        == 200
    )
    failed = raw(url, "GetOpportunity", {"Catalog": "AWS", "Identifier": "O1"})
    assert failed.status_code == 500 and failed.json()["__type"] == "InternalServerException"
    assert raw(url, "ListOpportunities", {"Catalog": "AWS"}).status_code == 200  # other operations untouched
    requests.post(
        f"{url}/_emulator/faults",
        json={"schedule": ["ConflictException", "slow"], "delay_seconds": 0.3},
        timeout=5,
    )
    assert raw(url, "ListOpportunities", {"Catalog": "AWS"}).status_code == 409
    started = time.monotonic()
    assert raw(url, "ListOpportunities", {"Catalog": "AWS"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert requests.delete(f"{url}/_emulator/faults", timeout=5).json()["schedule"] == []
    bad = requests.post(f"{url}/_emulator/faults", json={"kinds": ["Teapot"], "rate": 0.5}, timeout=5)
    assert bad.status_code == 400


def test_access_denied(emu: PartnerCentralEmulator, pc: Any, url: str) -> None:
    unsigned = raw(url, "ListOpportunities", {"Catalog": "AWS"}, auth=False)
    assert unsigned.status_code == 403 and unsigned.json()["__type"] == "AccessDeniedException"
    requests.post(f"{url}/_emulator/config", json={"denied": ["CreateOpportunity"]}, timeout=5)
    with pytest.raises(ClientError) as exc:
        pc.create_opportunity(**create_request())
    assert code(exc) == "AccessDeniedException"
    pc.list_opportunities(Catalog="AWS")
    emu.configure(denied=True)
    with pytest.raises(ClientError) as exc:
        pc.list_opportunities(Catalog="AWS")
    assert code(exc) == "AccessDeniedException"


# Events and control API -----------------------------------------------------------------------------
def test_events_published_for_state_changes(emu: PartnerCentralEmulator, pc: Any, url: str) -> None:
    opportunity = create(pc)
    pc.update_opportunity(**update_request(pc, opportunity))
    invitation = emu.send_invitation(INVITATION)
    pc.reject_engagement_invitation(Catalog="AWS", Identifier=invitation)
    pc.get_opportunity(Catalog="AWS", Identifier=opportunity["Id"])  # reads publish nothing
    events = requests.get(f"{url}/_emulator/events", timeout=5).json()["events"]
    assert [e["detail-type"] for e in events] == [
        "Opportunity Created",
        "Opportunity Updated",
        "Engagement Invitation Created",
        "Engagement Invitation Rejected",
    ]
    first = events[0]
    assert first["source"] == "aws.partnercentral-selling" and first["resources"] == [opportunity["Arn"]]
    assert first["detail"]["schemaVersion"] == "1" and first["detail"]["catalog"] == "AWS"
    assert first["detail"]["opportunity"]["identifier"] == opportunity["Id"]
    assert first["detail"]["opportunity"]["url"].endswith(opportunity["Id"])
    assert events[3]["detail"]["engagementInvitation"]["id"] == invitation


def test_event_sink_receives_events_off_the_request_path() -> None:
    received: list[dict[str, Any]] = []
    emulator, server = start_partner_central_emulator(event_sink=received.extend)
    try:
        client = make_client(server.url)
        created = client.create_opportunity(**create_request())
        assert emulator.flush_events(5)
        assert [e["detail"]["opportunity"]["identifier"] for e in received] == [created["Id"]]
    finally:
        server.stop()
        emulator.close()


def test_control_api_seed_stats_reset(url: str, pc: Any) -> None:
    seeded = requests.post(
        f"{url}/_emulator/seed",
        timeout=5,
        json={
            "solutions": [{"Name": "One"}],
            "opportunities": [
                {
                    **{k: v for k, v in create_request().items() if k not in ("ClientToken", "Catalog")},
                    "LastModifiedDate": "2025-01-02T03:04:05Z",
                    "Solutions": ["S-0100001"],
                }
            ],
            "invitations": [{"Payload": INVITATION}],
        },
    ).json()
    assert len(seeded["opportunities"]) == 1 and len(seeded["invitations"]) == 1
    got = pc.get_opportunity(Catalog="AWS", Identifier=seeded["opportunities"][0])
    assert got["LastModifiedDate"].isoformat() == "2025-01-02T03:04:05+00:00"
    assert got["RelatedEntityIdentifiers"]["Solutions"] == seeded["solutions"]
    bad = requests.post(
        f"{url}/_emulator/seed", json={"opportunities": [{"Customer": {"Account": {}}}]}, timeout=5
    )
    assert bad.status_code == 400
    stats = requests.get(f"{url}/_emulator/stats", timeout=5).json()
    assert stats["calls"] == {"GetOpportunity": 1} and stats["opportunities"] == {"AWS": 1, "Sandbox": 0}
    requests.post(f"{url}/_emulator/stats/reset", timeout=5)
    assert requests.get(f"{url}/_emulator/stats", timeout=5).json()["total"] == 0
    requests.post(f"{url}/_emulator/reset", timeout=5)
    assert pc.list_opportunities(Catalog="AWS")["OpportunitySummaries"] == []
    assert requests.post(f"{url}/_emulator/nothing", timeout=5).status_code == 404
    config = requests.post(f"{url}/_emulator/config", json={"reads_per_second": 5}, timeout=5).json()
    assert config["reads_per_second"] == 5 and config["writes_per_second"] is None
