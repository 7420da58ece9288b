"""deploy/cloudformation.yaml: cfn-lint, the Partner Central action list, and a moto deployment."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from cfnlint.decode import decode_str

from hspc_pipelines_tests.support.paths import DEPLOY, REPO

TEMPLATE = DEPLOY / "cloudformation.yaml"
ACTIONS = DEPLOY / "partner_central_actions.txt"
PACKAGE = REPO / "hspc_pipelines"
CLIENT = PACKAGE / "partner_central" / "client.py"

# API_NOTES.md, "EventBridge events".
DETAIL_TYPES = {
    "Opportunity Created",
    "Opportunity Updated",
    "Opportunity Accepted",
    "Opportunity Rejected",
    "Engagement Invitation Created",
    "Engagement Invitation Accepted",
    "Engagement Invitation Rejected",
    "Engagement Invitation Expired",
    "Engagement Member Joined",
    "Engagement Member Added",
    "Resource Snapshot Created",
    "Engagement Resource Snapshot Created",
}
ROUTES = {
    "POST /webhook/hubspot",
    "POST /webhook/deal-update",
    "POST /submit-opportunity",
    "GET /solutions",
    "GET /solutions/search",
    "GET /solutions/{id}",
    "GET /healthz",
}
SECRET_PARAMETERS = {
    "HubSpotAccessTokenParameterName",
    "HubSpotClientSecretParameterName",
    "PartnerCentralExternalIdParameterName",
    "IngressApiTokenParameterName",
    "DagsterPgPasswordParameterName",
}


def template() -> dict[str, Any]:
    decoded, matches = decode_str(TEMPLATE.read_text())
    assert not matches, matches
    return json.loads(json.dumps(decoded, default=str))


def listed_actions() -> list[str]:
    return [line.strip() for line in ACTIONS.read_text().splitlines() if line.strip()]


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in resource["Properties"].get("Policies", []):
        out += policy["PolicyDocument"]["Statement"]
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--", str(TEMPLATE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_list_is_well_formed_and_real() -> None:
    actions = listed_actions()
    assert len(actions) == len(set(actions)), "duplicates in partner_central_actions.txt"
    assert all(a.startswith("partnercentral:") for a in actions)
    model = botocore.session.get_session().get_service_model("partnercentral-selling")
    unknown = {a.split(":", 1)[1] for a in actions} - set(model.operation_names)
    assert not unknown, f"not Partner Central Selling operations: {sorted(unknown)}"


def test_template_grants_exactly_the_listed_actions() -> None:
    role = template()["Resources"]["PartnerCentralRole"]
    granted = [a for s in statements(role) for a in as_list(s["Action"])]
    assert sorted(granted) == sorted(listed_actions())
    assert all(s["Effect"] == "Allow" for s in statements(role))


def _client_operations() -> dict[str, set[str]]:
    """PartnerCentralClient method -> the operations it calls (through other methods too)."""
    model = botocore.session.get_session().get_service_model("partnercentral-selling")
    operations = set(model.operation_names)
    tree = ast.parse(CLIENT.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PartnerCentralClient")
    direct: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        direct[fn.name] = {
            n.value for n in ast.walk(fn) if isinstance(n, ast.Constant) and n.value in operations
        }
        calls[fn.name] = {
            n.func.attr
            for n in ast.walk(fn)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == "self"
        }
    resolved: dict[str, set[str]] = {}

    def resolve(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if name not in resolved:
            ops = set(direct.get(name, set()))
            for callee in calls.get(name, set()) - seen:
                ops |= resolve(callee, seen | {name})
            resolved[name] = ops
        return resolved[name]

    return {name: resolve(name) for name in direct if not name.startswith("_") and name != "call"}


def test_action_list_covers_what_the_code_calls() -> None:
    """Every operation the package reaches through the client is granted (else AccessDenied in
    production), and every granted one is an operation the client wraps. Granted but not called
    yet (features in progress when this was written): SubmitOpportunity, DisassociateOpportunity,
    ListEngagements, ListEngagementMembers, ListEngagementFromOpportunityTasks."""
    methods = _client_operations()
    model = botocore.session.get_session().get_service_model("partnercentral-selling")
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path == CLIENT or "emulators" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name in methods:
                used |= methods[name]
            elif (
                name == "call"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in model.operation_names
            ):
                used.add(node.args[0].value)
    listed = {a.split(":", 1)[1] for a in listed_actions()}
    assert used, "found no Partner Central calls: the scan is broken"
    assert not used - listed, f"called but not in partner_central_actions.txt: {sorted(used - listed)}"
    wrapped = set().union(*methods.values())
    assert not listed - wrapped, f"listed but no client method calls them: {sorted(listed - wrapped)}"


def test_events_rule_covers_every_partner_central_detail_type() -> None:
    rule = template()["Resources"]["PartnerCentralEventsRule"]["Properties"]
    assert rule["EventBusName"] == "default"
    assert rule["EventPattern"]["source"] == ["aws.partnercentral-selling"]
    assert set(rule["EventPattern"]["detail-type"]) == DETAIL_TYPES
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}


def test_queue_policy_lets_only_the_rule_send() -> None:
    policy = template()["Resources"]["EventsQueuePolicy"]["Properties"]["PolicyDocument"]
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert len(allow) == 1
    assert allow[0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow[0]["Action"] == "sqs:SendMessage"
    assert allow[0]["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": ["PartnerCentralEventsRule", "Arn"]
    }


def test_api_routes() -> None:
    resources = template()["Resources"]
    routes = {
        r["Properties"]["RouteKey"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    assert routes == ROUTES
    api = next(r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["ProtocolType"] == "HTTP"


def test_partner_central_trust_requires_external_id() -> None:
    trust = template()["Resources"]["PartnerCentralRole"]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "PartnerCentralExternalId"}}}
    assert template()["Parameters"]["PartnerCentralExternalId"]["NoEcho"] is True


def test_task_roles_read_exactly_the_secure_string_parameters() -> None:
    tpl = template()
    assert set(tpl["Parameters"]) >= SECRET_PARAMETERS
    assert not [r for r in tpl["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"]
    for role_name, action in (("TaskRole", "ssm:GetParameters"), ("TaskExecutionRole", "ssm:GetParameters")):
        stmts = statements(tpl["Resources"][role_name])
        ssm = [s for s in stmts if action in as_list(s["Action"])]
        assert len(ssm) == 1, role_name
        named = {sub["Fn::Sub"].rsplit("${", 1)[1].rstrip("}") for sub in ssm[0]["Resource"]}
        assert named == SECRET_PARAMETERS, role_name
        kms = [s for s in stmts if "kms:Decrypt" in as_list(s["Action"])]
        assert len(kms) == 1, role_name


def test_outputs() -> None:
    assert {"QueueUrl", "DeadLetterQueueUrl", "PartnerCentralRoleArn", "ApiEndpoint"} <= set(
        template()["Outputs"]
    )


# ------------------------------------------------------------------------------------- moto
# moto 5.2.5's CloudFormation has no AWS::SQS::QueuePolicy and no AWS::ApiGatewayV2::* resources
# (create_stack fails with the full template). What it can deploy is deployed from the real
# template, and the unsupported part is named here so that it cannot grow unnoticed.
MOTO_UNSUPPORTED = {
    "EventsQueuePolicy",
    "EventsDeadLetterQueuePolicy",
    "IngressApi",
    "IngressVpcLink",
    "IngressIntegration",
    "IngressStage",
    *(f"Route{n}" for n in ("WebhookHubSpot", "WebhookDealUpdate", "SubmitOpportunity")),
    *(f"Route{n}" for n in ("Solutions", "SolutionsSearch", "SolutionById", "Healthz")),
}


def _moto_subset() -> dict[str, Any]:
    from moto.cloudformation.parsing import get_model_map

    tpl = template()
    supported = get_model_map()
    dropped = {k for k, r in tpl["Resources"].items() if r["Type"] not in supported}
    assert dropped == MOTO_UNSUPPORTED
    for key in dropped:
        del tpl["Resources"][key]
    tpl["Outputs"] = {k: v for k, v in tpl["Outputs"].items() if k != "ApiEndpoint"}
    tpl.pop("Rules")  # not evaluated by moto
    return tpl


def _receive(sqs: Any, url: str, wait: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if got.get("Messages"):
            return list(got["Messages"])
    return []


def test_deploys_into_moto(moto_server: str) -> None:
    cfn = boto3.client("cloudformation")
    cfn.create_stack(
        StackName="hspc",
        TemplateBody=json.dumps(_moto_subset()),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "PartnerCentralExternalId", "ParameterValue": "ext-id-123"},
            {"ParameterKey": "IngressUrl", "ParameterValue": "https://ingress.example.com"},
            {"ParameterKey": "DataBucketName", "ParameterValue": "hspc-data"},
        ],
    )
    stack = cfn.describe_stacks(StackName="hspc")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    queue_url, dlq_url = outputs["QueueUrl"], outputs["DeadLetterQueueUrl"]

    sqs = boto3.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "120"
    assert attrs["SqsManagedSseEnabled"] == "true"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 5
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert redrive["deadLetterTargetArn"] == dlq_arn

    # A Partner Central event on the default bus reaches the queue; another source does not.
    events = boto3.client("events")
    detail = {"schemaVersion": "1", "catalog": "AWS", "opportunity": {"identifier": "O1234567"}}
    entries = [
        {
            "Source": "aws.partnercentral-selling",
            "DetailType": "Opportunity Updated",
            "Detail": json.dumps(detail),
        },
        {"Source": "aws.other", "DetailType": "Opportunity Updated", "Detail": json.dumps(detail)},
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    got = _receive(sqs, queue_url)
    assert [json.loads(m["Body"])["source"] for m in got] == ["aws.partnercentral-selling"]
    assert json.loads(got[0]["Body"])["detail"]["opportunity"]["identifier"] == "O1234567"

    # A message that keeps failing (received, never deleted) moves to the DLQ after 5 receives.
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=got[0]["ReceiptHandle"])
    sqs.send_message(QueueUrl=queue_url, MessageBody="poison")
    for _ in range(5):
        (msg,) = _receive(sqs, queue_url)
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
        )
    assert _receive(sqs, queue_url, wait=1.5) == []
    assert [m["Body"] for m in _receive(sqs, dlq_url)] == ["poison"]

    # The role: trust with ExternalId, the listed actions, and the role ARN in the outputs.
    iam = boto3.client("iam")
    role_name = outputs["PartnerCentralRoleArn"].rsplit("/", 1)[1]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == "ext-id-123"
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    doc = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(doc, str):  # moto keeps a CloudFormation-made inline policy as a Python repr
        doc = ast.literal_eval(doc)
    assert sorted(doc["Statement"][0]["Action"]) == sorted(listed_actions())


def test_full_template_is_refused_by_moto(moto_server: str) -> None:
    """Documents the limit above: if moto learns these resources, deploy the whole template."""
    cfn = boto3.client("cloudformation")
    with pytest.raises(Exception):  # noqa: B017 - moto answers 500 on the unsupported outputs
        cfn.create_stack(
            StackName="hspc-full",
            TemplateBody=TEMPLATE.read_text(),
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[
                {"ParameterKey": "PartnerCentralExternalId", "ParameterValue": "ext-id-123"},
                {"ParameterKey": "IngressUrl", "ParameterValue": "https://ingress.example.com"},
                {"ParameterKey": "DataBucketName", "ParameterValue": "hspc-data"},
            ],
        )
