"""deploy/cloudformation.yaml: cfn-lint, the Partner Central action list, what each resource promises
(encryption, privacy, TLS, sign-in, alarms, the variables each process reads), and moto deployments."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest

from hspc_pipelines_tests.support.cloudformation import TEMPLATE, listed_actions, template
from hspc_pipelines_tests.support.paths import DEPLOY, REPO

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
# Variables whose values are secrets: only ever injected from SSM or Secrets Manager (ECS `secrets`).
SECRET_VARIABLES = {
    "HUBSPOT_ACCESS_TOKEN",
    "HUBSPOT_CLIENT_SECRET",
    "HSPC_INGRESS_API_TOKEN",
    "HSPC_INGRESS_API_TOKENS",
    "PARTNER_CENTRAL_EXTERNAL_ID",
    "DAGSTER_PG_PASSWORD",
    "PGPASSWORD",
}


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


def test_api_reaches_the_ingress_service_through_a_vpc_link() -> None:
    integration = template()["Resources"]["IngressIntegration"]["Properties"]
    assert integration["ConnectionType"] == "VPC_LINK"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": ["IngressDiscovery", "Arn"]}
    service = template()["Resources"]["IngressService"]["Properties"]
    assert service["ServiceRegistries"][0]["RegistryArn"] == {"Fn::GetAtt": ["IngressDiscovery", "Arn"]}


def test_partner_central_trust_requires_external_id() -> None:
    tpl = template()
    for role in ("PartnerCentralRole", "PartnerCentralCatalogRole"):
        trust = tpl["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
        (statement,) = trust["Statement"]
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"] == {
            "StringEquals": {"sts:ExternalId": {"Ref": "PartnerCentralExternalId"}}
        }, role
    # The value comes from SSM through CloudFormation, never typed as a parameter value.
    assert tpl["Parameters"]["PartnerCentralExternalId"]["Type"] == "AWS::SSM::Parameter::Value<String>"
    principal = tpl["Resources"]["PartnerCentralRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert principal["Statement"][0]["Principal"]["AWS"]["Fn::If"][1] == {
        "Fn::GetAtt": ["RunTaskRole", "Arn"]
    }


def containers() -> dict[str, dict[str, Any]]:
    """Container name -> its definition, for every task definition of the template; an `Fn::If` entry of
    its environment or secrets as its first branch (what it gets when the condition holds: the code
    location's HubSpot credential when the journal is read), `AWS::NoValue` left out."""
    out = {}
    for resource in template()["Resources"].values():
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            for container in resource["Properties"]["ContainerDefinitions"]:
                out[container["Name"]] = {
                    **container,
                    **{k: _when_true(container[k]) for k in ("Environment", "Secrets") if k in container},
                }
    return out


def _when_true(entries: list[Any]) -> list[Any]:
    out = []
    for entry in entries:
        if "Fn::If" in entry:
            entry = entry["Fn::If"][1]
        if entry != {"Ref": "AWS::NoValue"}:
            out.append(entry)
    return out


def test_secrets_only_by_reference() -> None:
    tpl = template()
    assert not [r for r in tpl["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"]
    # No parameter takes a secret's value (NoEcho would be the sign of one).
    assert not [name for name, p in tpl["Parameters"].items() if p.get("NoEcho")]
    for name, container in containers().items():
        plain = {e["Name"] for e in container.get("Environment", [])}
        assert not plain & SECRET_VARIABLES, f"{name}: secret in plain environment {plain & SECRET_VARIABLES}"
        for secret in container.get("Secrets", []):
            source = json.dumps(secret["ValueFrom"])
            assert ":parameter${" in source or "${DatabaseSecret}" in source, (name, secret)
    props = tpl["Resources"]["Database"]["Properties"]
    assert props["MasterUserPassword"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"
    }


# What each process reads (the code's os.environ reads, Dagster's instance and workspace files,
# libpq); the template must set at least this on each container, and nothing outside READ_BY_ANYONE.
DAGSTER_INSTANCE = {
    "AWS_REGION",
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_USER",
    "DAGSTER_PG_DB",
    "DAGSTER_PG_PASSWORD",
    "PGSSLMODE",
    "DAGSTER_COMPUTE_LOGS_BUCKET",
    "DAGSTER_COMPUTE_LOGS_PREFIX",
}
WORKSPACE = {"DAGSTER_CODE_LOCATION_HOST", "DAGSTER_CODE_LOCATION_PORT", "DAGSTER_ECS_RUN_TASK_DEFINITION"}
STATE_STORE = {"HSPC_STATE_URL", "PGPASSWORD"}
ASSET_STORE = {"HSPC_ASSET_STORE_URL"}  # the code location's resources and the run worker
OBSERVABILITY = {"HSPC_CLOUDWATCH_METRICS", "HSPC_LOG_FORMAT"}  # EMF lines, JSON logs
READS = {
    "code-location": DAGSTER_INSTANCE
    | STATE_STORE
    | ASSET_STORE
    | OBSERVABILITY
    | {"HSPC_EVENTS_QUEUE_URL", "PARTNER_CENTRAL_CATALOG", "DAGSTER_ECS_RUN_TASK_DEFINITION"}
    # journal_sensor: the events source, and (when it reads the journal) the app's client credentials.
    | {"HSPC_HUBSPOT_EVENTS_SOURCE", "HSPC_HUBSPOT_AUTH", "HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET"},
    "webserver": DAGSTER_INSTANCE | WORKSPACE,
    "daemon": DAGSTER_INSTANCE | WORKSPACE,
    "run": DAGSTER_INSTANCE
    | STATE_STORE
    | ASSET_STORE
    | OBSERVABILITY
    | {
        "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER",
        "HSPC_HUBSPOT_AUTH",
        "HUBSPOT_CLIENT_ID",
        "HUBSPOT_CLIENT_SECRET",
        "PARTNER_CENTRAL_ROLE_ARN",
        "PARTNER_CENTRAL_EXTERNAL_ID",
        "PARTNER_CENTRAL_CATALOG",
    },
    "ingress": {
        "AWS_REGION",
        "HSPC_EVENTS_QUEUE_URL",
        "HSPC_PUBLIC_URL",
        "HUBSPOT_CLIENT_SECRET",
        "HSPC_INGRESS_API_TOKENS_SSM_PARAMETER",
        "PARTNER_CENTRAL_ROLE_ARN",
        "PARTNER_CENTRAL_EXTERNAL_ID",
        "PARTNER_CENTRAL_CATALOG",
        "HSPC_LOG_FORMAT",  # uvicorn's lines and hspc's, through the same handler
    },
}
# Read by Dagster itself (the image, DAGSTER_CURRENT_IMAGE for run launches) or libpq.
OUTSIDE_THE_PACKAGE = {"DAGSTER_CURRENT_IMAGE", "PGSSLMODE", "PGPASSWORD"}


def test_every_process_gets_the_variables_it_reads() -> None:
    got = containers()
    assert set(got) == set(READS)
    for name, container in got.items():
        names = {e["Name"] for e in container.get("Environment", [])} | {
            s["Name"] for s in container.get("Secrets", [])
        }
        assert not READS[name] - names, f"{name} lacks {sorted(READS[name] - names)}"
        assert not names - READS[name] - OUTSIDE_THE_PACKAGE, f"{name} sets {sorted(names - READS[name])}"


def test_every_variable_set_is_read_somewhere() -> None:
    """A variable renamed in the code (or the instance files) fails here instead of in production."""
    code = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))
    config = "\n".join((DEPLOY / f).read_text() for f in ("dagster.yaml", "workspace.yaml"))
    for name in set().union(*READS.values()) - OUTSIDE_THE_PACKAGE:
        assert f'"{name}"' in code or f"env: {name}" in config, f"nobody reads {name}"


def test_services_have_health_checks_and_logs() -> None:
    resources = template()["Resources"]
    for name, container in containers().items():
        log = container["LogConfiguration"]
        assert log["LogDriver"] == "awslogs", name
        group = resources[log["Options"]["awslogs-group"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        if name != "run":  # run workers are watched by the daemon's run monitoring
            assert container["HealthCheck"]["Command"] == ["CMD", "hspc-entrypoint", "healthcheck"], name
    services = {
        r["Properties"]["ServiceName"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ECS::Service"
    }
    assert set(services) == {"code-location", "webserver", "daemon", "ingress"}
    for name, props in services.items():
        assert props["LaunchType"] == "FARGATE", name
        assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED", name
    target_group = resources["WebserverTargetGroup"]["Properties"]
    assert target_group["HealthCheckPath"] == "/server_info"
    # Dagster runs one daemon per instance: never two during a deployment.
    assert services["daemon"]["DeploymentConfiguration"]["MaximumPercent"] == 100


def test_run_task_definition_is_what_ecs_run_launcher_uses() -> None:
    import yaml

    run = template()["Resources"]["RunTaskDefinition"]["Properties"]
    launcher = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())["run_launcher"]["config"]
    assert [c["Name"] for c in run["ContainerDefinitions"]] == [launcher["container_name"]]
    assert launcher["task_definition"] == {"env": "DAGSTER_ECS_RUN_TASK_DEFINITION"}
    for name in ("daemon", "webserver", "code-location"):
        env = {e["Name"]: e["Value"] for e in containers()[name]["Environment"]}
        assert env["DAGSTER_ECS_RUN_TASK_DEFINITION"] == {"Ref": "RunTaskDefinition"}, name


def test_log_groups_are_encrypted_and_expire() -> None:
    groups = {
        k: r["Properties"] for k, r in template()["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"
    }
    assert len(groups) == 6
    for name, props in groups.items():
        assert props["KmsKeyId"] == STACK_KEY, name
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


STACK_KEY = {"Fn::If": ["CreateKey", {"Fn::GetAtt": ["StackKey", "Arn"]}, {"Ref": "KmsKeyArn"}]}


def test_database_is_private_encrypted_backed_up_and_requires_tls() -> None:
    resources = template()["Resources"]
    db = resources["Database"]["Properties"]
    assert db["Engine"] == "postgres"
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == STACK_KEY
    assert db["PubliclyAccessible"] is False
    assert db["BackupRetentionPeriod"] == {"Ref": "DbBackupRetentionDays"}
    assert template()["Parameters"]["DbBackupRetentionDays"]["MinValue"] >= 1
    assert db["DBParameterGroupName"] == {"Ref": "DatabaseParameterGroup"}
    assert resources["DatabaseParameterGroup"]["Properties"]["Parameters"]["rds.force_ssl"] == "1"
    assert resources["Database"]["DeletionPolicy"] == "Snapshot"
    # Only the Dagster processes reach it; the internet-facing ingress does not.
    sources = {
        r["SourceSecurityGroupId"]["Ref"]
        for r in resources["DatabaseSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    }
    assert sources == {"CodeLocationSecurityGroup", "WebserverSecurityGroup", "DaemonAndRunsSecurityGroup"}


def test_bucket_is_private_encrypted_and_refuses_http_and_other_encryption() -> None:
    resources = template()["Resources"]
    bucket = resources["DataBucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": STACK_KEY}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert {r["Id"] for r in bucket["LifecycleConfiguration"]["Rules"]} >= {
        "expire-compute-logs",
        "abort-incomplete-uploads",
    }
    statements = resources["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {s["Effect"] for s in statements} == {"Deny"}
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["DenyPlainHttp"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert by_sid["DenyPutsNotEncryptedWithKms"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": "aws:kms"
    }
    assert by_sid["DenyPutsWithAnotherKey"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": STACK_KEY
    }


def test_queues_use_the_customer_key() -> None:
    resources = template()["Resources"]
    for name in ("EventsQueue", "EventsDeadLetterQueue"):
        assert resources[name]["Properties"]["KmsMasterKeyId"] == STACK_KEY, name
    key_policy = resources["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = {json.dumps(s["Principal"]) for s in key_policy}
    assert '{"Service": "events.amazonaws.com"}' in services  # else EventBridge cannot deliver


def test_ui_is_reachable_only_through_https_and_cognito_sign_in() -> None:
    resources = template()["Resources"]
    listeners = [
        r["Properties"] for r in resources.values() if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"
    ]
    (listener,) = listeners
    assert listener["Protocol"] == "HTTPS"
    assert listener["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    first, second = sorted(listener["DefaultActions"], key=lambda a: a["Order"])
    assert first["Type"] == "authenticate-cognito"
    assert first["AuthenticateCognitoConfig"]["OnUnauthenticatedRequest"] == "authenticate"
    assert second == {"Type": "forward", "Order": 2, "TargetGroupArn": {"Ref": "WebserverTargetGroup"}}
    pool = resources["UiUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # The webserver takes traffic from the load balancer only.
    (ingress,) = resources["WebserverSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "UiLoadBalancerSecurityGroup"}


def _section(markdown: str, title: str) -> list[list[str]]:
    """Rows (cells) of the first table under a heading of docs/production.md."""
    section = markdown.split(f"\n{title}\n", 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows[1:]


PRODUCTION_DOC = REPO / "docs" / "production.md"


def test_alarms_and_the_documented_metrics_agree() -> None:
    alarms = {
        k: r["Properties"]
        for k, r in template()["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    product = {p["MetricName"]: p for p in alarms.values() if p.get("Namespace") == "hspc"}
    assert set(product) == {"FailedRuns", "FailedRows", "ThrottledCalls", "WriteQuotaShare"}
    rows = _section(PRODUCTION_DOC.read_text(), "## Metrics")
    documented = {row[0].strip("`"): row for row in rows}
    for metric, props in product.items():
        assert metric in documented, f"{metric} alarmed but not documented"
        assert "Dimensions" not in props, f"{metric}: the alarm watches the series without dimensions"
        assert props["Statistic"] == "Sum"
    aws = {
        json.dumps(p.get("MetricName") or p["Metrics"][0]["MetricStat"]["Metric"]["MetricName"])
        for p in alarms.values()
    }
    assert '"ApproximateNumberOfMessagesVisible"' in aws and '"ApproximateAgeOfOldestMessage"' in aws
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_outputs_are_the_documented_ones() -> None:
    rows = _section(PRODUCTION_DOC.read_text(), "### Outputs")
    documented = {row[0].strip("`") for row in rows}
    assert documented == set(template()["Outputs"])


# ------------------------------------------------------------------------------------- moto
# moto 5.2.5's CloudFormation cannot model these types; the tests deploy everything else from the
# real template, with references to these replaced by placeholder ARNs, so that the set cannot
# grow unnoticed. They are checked statically above (and by cfn-lint and checkov).
MOTO_UNSUPPORTED = {
    # AWS::SQS::QueuePolicy, AWS::S3::BucketPolicy
    "EventsQueuePolicy",
    "EventsDeadLetterQueuePolicy",
    "DataBucketPolicy",
    # AWS::ApiGatewayV2::*
    "IngressApi",
    "IngressVpcLink",
    "IngressIntegration",
    "IngressStage",
    *(f"Route{n}" for n in ("WebhookHubSpot", "WebhookDealUpdate", "SubmitOpportunity")),
    *(f"Route{n}" for n in ("Solutions", "SolutionsSearch", "SolutionById", "Healthz")),
    # AWS::Cognito::*
    "UiUserPool",
    "UiUserPoolClient",
    "UiUserPoolDomain",
    # AWS::SecretsManager::Secret
    "DatabaseSecret",
    # AWS::ServiceDiscovery::*
    "ServiceNamespace",
    "CodeLocationDiscovery",
    "IngressDiscovery",
    # AWS::CloudWatch::Alarm, AWS::SNS::Subscription
    "DeadLetterMessagesAlarm",
    "EventsQueueAgeAlarm",
    "FailedRunsAlarm",
    "WriteQuotaAlarm",
    "FailedRowsAlarm",
    "ThrottledCallsAlarm",
    "AlarmEmailSubscription",
}


def _placeholder(name: str, attribute: str | None = None) -> str:
    return f"arn:aws:moto-unsupported:us-east-1:123456789012:{name}" + (f"/{attribute}" if attribute else "")


def _moto_subset(parameters: dict[str, str]) -> dict[str, Any]:
    import ipaddress

    from moto.cloudformation.parsing import get_model_map

    tpl = template()
    supported = get_model_map()
    dropped = {k for k, r in tpl["Resources"].items() if r["Type"] not in supported}
    assert dropped == MOTO_UNSUPPORTED
    for key in dropped:
        del tpl["Resources"][key]
    reference = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}")

    def substitute(text: str) -> str:
        return reference.sub(lambda m: _placeholder(m[1], m[2]) if m[1] in dropped else m[0], text)

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        if value.keys() == {"Ref"} and value["Ref"] in dropped:
            return _placeholder(value["Ref"])
        if value.keys() == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in dropped:
            return _placeholder(*value["Fn::GetAtt"])
        if value.keys() == {"Fn::Sub"}:
            sub = value["Fn::Sub"]
            return {
                "Fn::Sub": substitute(sub) if isinstance(sub, str) else [substitute(sub[0]), walk(sub[1])]
            }
        if value.keys() == {"Fn::Cidr"}:  # moto has no Fn::Cidr: evaluated as CloudFormation does
            block, count, bits = value["Fn::Cidr"]
            network = ipaddress.ip_network(parameters[block["Ref"]])
            return [str(n) for n in network.subnets(new_prefix=32 - int(bits))][: int(count)]
        return {k: walk(v) for k, v in value.items()}

    tpl = dict(walk(tpl))
    tpl.pop("Rules")  # not evaluated by moto
    # moto hands the parameter group object, not its name, to the instance (AttributeError); the
    # reference is checked statically and the group's parameters in moto below.
    del tpl["Resources"]["Database"]["Properties"]["DBParameterGroupName"]
    tpl["Outputs"] = {k: v for k, v in tpl["Outputs"].items() if "moto-unsupported" not in json.dumps(v)}
    return tpl


def _create_stack(name: str, overrides: dict[str, str]) -> dict[str, str]:
    boto3.client("ssm").put_parameter(
        Name="/hspc/partner-central/external-id", Value="ext-id-123", Type="String", Overwrite=True
    )
    certificate = boto3.client("acm").request_certificate(DomainName="hspc.example.com")["CertificateArn"]
    parameters = {
        "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/hspc:abc123",
        "UiDomainName": "hspc.example.com",
        "CertificateArn": certificate,
        "CognitoDomainPrefix": "hspc-example",
        "VpcCidr": "10.42.0.0/16",
        **overrides,
    }
    cfn = boto3.client("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(_moto_subset(parameters)),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _existing_network() -> dict[str, str]:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{'ab'[i % 2]}")[
            "Subnet"
        ]["SubnetId"]
        for i in range(4)
    ]
    return {"VpcId": vpc, "PrivateSubnetIds": ",".join(subnets[:2]), "PublicSubnetIds": ",".join(subnets[2:])}


def _receive(sqs: Any, url: str, wait: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if got.get("Messages"):
            return list(got["Messages"])
    return []


def test_stack_with_its_own_network_in_moto(moto_server: str) -> None:
    outputs = _create_stack("hspc", {"CreateVpc": "true"})
    moto_outputs = set(template()["Outputs"]) - {"ApiEndpoint", "UiUserPoolId", "DatabaseSecretArn"}
    assert set(outputs) == moto_outputs

    ec2 = boto3.client("ec2")
    vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.42.0.0/16"]
    assert len(vpcs) == 1
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == [f"10.42.{i}.0/24" for i in range(4)]
    assert len(ec2.describe_nat_gateways()["NatGateways"]) == 1

    # moto's ECS keeps a task definition's family, containers and memory, and a service's cluster,
    # task definition and count: roles, network mode and subnets are checked statically above.
    ecs = boto3.client("ecs")
    cluster = outputs["ClusterName"]
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    families = {}
    for service in ecs.describe_services(cluster=cluster, services=arns)["services"]:
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        (container,) = definition["containerDefinitions"]
        assert container["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/hspc:abc123"
        assert container["healthCheck"]["command"] == ["CMD", "hspc-entrypoint", "healthcheck"]
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        families[definition["family"]] = container["command"]
    assert families == {
        f"hspc-{role}": [role] for role in ("code-location", "webserver", "daemon", "ingress")
    }
    run = ecs.describe_task_definition(taskDefinition=outputs["RunTaskDefinitionArn"])["taskDefinition"]
    assert [c["name"] for c in run["containerDefinitions"]] == ["run"]  # what EcsRunLauncher checks

    key = outputs["KmsKeyArn"]
    assert boto3.client("kms").get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True

    rds = boto3.client("rds")
    (db,) = rds.describe_db_instances()["DBInstances"]
    assert db["Endpoint"]["Address"] == outputs["DatabaseEndpoint"]
    assert db["StorageEncrypted"] is True and db["KmsKeyId"] == key
    assert db["PubliclyAccessible"] is False
    assert db["BackupRetentionPeriod"] == 7
    (group,) = [
        g
        for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
        if g["DBParameterGroupFamily"] == "postgres16"
    ]
    values = {
        p["ParameterName"]: p.get("ParameterValue")
        for p in rds.describe_db_parameters(DBParameterGroupName=group["DBParameterGroupName"])["Parameters"]
    }
    assert values["rds.force_ssl"] == "1"

    s3 = boto3.client("s3")
    bucket = outputs["DataBucketName"]
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    # moto's CloudFormation applies a bucket's encryption and tags only: the public access block,
    # versioning and lifecycle are checked statically.

    logs = boto3.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/hspc/hspc/")["logGroups"]
    assert len(groups) == 6
    for group_info in groups:  # moto drops a log group's KmsKeyId: checked statically
        assert group_info["retentionInDays"] == 30, group_info["logGroupName"]

    elb = boto3.client("elbv2")
    (balancer,) = elb.describe_load_balancers()["LoadBalancers"]
    assert balancer["DNSName"] == outputs["UiLoadBalancerDnsName"]
    (listener,) = elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    assert [a["Type"] for a in listener["DefaultActions"]] == [
        "authenticate-cognito",
        "forward",
    ]


def test_events_flow_in_moto_with_a_given_network(moto_server: str) -> None:
    network = _existing_network()
    outputs = _create_stack("hspc", {"CreateVpc": "false", **network})
    queue_url, dlq_url = outputs["QueueUrl"], outputs["DeadLetterQueueUrl"]

    sqs = boto3.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "120"
    assert attrs["KmsMasterKeyId"] == outputs["KmsKeyArn"]
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

    # The role: trust with the ExternalId CloudFormation read from SSM, the listed actions.
    iam = boto3.client("iam")
    role_name = outputs["PartnerCentralRoleArn"].rsplit("/", 1)[1]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == "ext-id-123"
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    doc = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(doc, str):  # moto keeps a CloudFormation-made inline policy as a Python repr
        doc = ast.literal_eval(doc)
    assert sorted(doc["Statement"][0]["Action"]) == sorted(listed_actions())

    # The database and the UI's load balancer sit in the given subnets.
    (group,) = boto3.client("rds").describe_db_subnet_groups()["DBSubnetGroups"]
    assert sorted(s["SubnetIdentifier"] for s in group["Subnets"]) == sorted(
        network["PrivateSubnetIds"].split(",")
    )
    (balancer,) = boto3.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert sorted(z["SubnetId"] for z in balancer["AvailabilityZones"]) == sorted(
        network["PublicSubnetIds"].split(",")
    )


def test_full_template_is_refused_by_moto(moto_server: str) -> None:
    """Documents the limit above: if moto learns these resources, deploy the whole template."""
    cfn = boto3.client("cloudformation")
    with pytest.raises(Exception):  # noqa: B017 - moto answers 500 on the unsupported parts
        cfn.create_stack(
            StackName="hspc-full",
            TemplateBody=TEMPLATE.read_text(),
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[
                {"ParameterKey": "ImageUri", "ParameterValue": "registry.example.com/hspc:abc"},
                {"ParameterKey": "UiDomainName", "ParameterValue": "hspc.example.com"},
                {
                    "ParameterKey": "CertificateArn",
                    "ParameterValue": "arn:aws:acm:us-east-1:123456789012:certificate/x",
                },
                {"ParameterKey": "CognitoDomainPrefix", "ParameterValue": "hspc-example"},
            ],
        )


def test_the_code_location_gets_the_app_credential_only_when_it_reads_the_journal() -> None:
    tpl = template()
    assert tpl["Parameters"]["HubSpotEventsSource"]["AllowedValues"] == ["queue", "journal", "both"]
    assert tpl["Conditions"]["ReadsJournal"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HubSpotEventsSource"}, "queue"]}]
    }
    # The settings' rule, before anything is created: the journal needs client credentials and a client id.
    rule = tpl["Rules"]["JournalNeedsClientCredentials"]
    asserted = json.dumps(rule["Assertions"])
    assert '"client_credentials"' in asserted and "HubSpotClientId" in asserted
    definition = tpl["Resources"]["CodeLocationTaskDefinition"]["Properties"]
    (container,) = definition["ContainerDefinitions"]
    conditional = [
        e["Fn::If"]
        for e in container["Environment"] + container["Secrets"]
        if isinstance(e, dict) and "Fn::If" in e
    ]
    assert {c[1]["Name"] for c in conditional} == {
        "HSPC_HUBSPOT_AUTH",
        "HUBSPOT_CLIENT_ID",
        "HUBSPOT_CLIENT_SECRET",
    }
    assert all(c[0] == "ReadsJournal" and c[2] == {"Ref": "AWS::NoValue"} for c in conditional)
    # Its own execution role, which may read that one parameter and no other.
    assert definition["ExecutionRoleArn"] == {"Fn::GetAtt": ["CodeLocationExecutionRole", "Arn"]}
    role = tpl["Resources"]["CodeLocationExecutionRole"]
    ssm = [s for s in statements(role) if any(a.startswith("ssm:") for a in as_list(s["Action"]))]
    assert [(s["Action"], json.dumps(s["Resource"])) for s in ssm] == [
        (
            "ssm:GetParameters",
            json.dumps(
                {
                    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${HubSpotClientSecretParameterName}"
                }
            ),
        )
    ]
    shared = tpl["Resources"]["DagsterExecutionRole"]
    assert not [s for s in statements(shared) if any(a.startswith("ssm:") for a in as_list(s["Action"]))]
