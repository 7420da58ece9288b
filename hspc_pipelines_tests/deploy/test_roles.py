"""Least privilege per process (issue 20): the template's roles against docs/security.md, "Roles".

Both directions: a grant in the template that the table lacks fails, and so does a documented grant
the template does not make. Actions and resources are compared; conditions are the template's.
"""

from __future__ import annotations

import re

from hspc_pipelines_tests.support.cloudformation import listed_actions, template
from hspc_pipelines_tests.support.iam_grants import distinct_actions, documented_grants, role_grants
from hspc_pipelines_tests.support.paths import REPO

SECURITY = REPO / "docs" / "security.md"
TASK_ROLES = {
    "code-location": "CodeLocationTaskRole",
    "webserver": "WebserverTaskRole",
    "daemon": "DaemonTaskRole",
    "ingress": "IngressTaskRole",
    "run": "RunTaskRole",
}


def test_roles_grant_exactly_what_docs_security_lists() -> None:
    granted = role_grants(template())
    documented = documented_grants(SECURITY.read_text(), listed_actions())
    assert set(granted) == set(documented), "roles differ from the table"
    for role in granted:
        extra = granted[role] - documented[role]
        missing = documented[role] - granted[role]
        assert not extra, f"{role} is granted what docs/security.md does not list: {sorted(extra)}"
        assert not missing, (
            f"{role}: docs/security.md lists what the template does not grant: {sorted(missing)}"
        )


def test_documented_action_counts_are_the_templates() -> None:
    granted = role_grants(template())
    section = SECURITY.read_text().split("| Role | Actions before | Actions after |", 1)[1]
    counted = 0
    for line in section.splitlines()[2:]:
        if not line.startswith("|"):
            break
        role_cell, _, after = (c.strip() for c in line.strip("|").split("|"))
        role = re.findall(r"`([^`]+)`", role_cell)[0]
        if role in granted:
            assert int(after.split()[0]) == distinct_actions(granted[role]), role
            counted += 1
    assert counted == len(granted)


def test_each_process_runs_with_its_own_roles() -> None:
    resources = template()["Resources"]
    seen = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::ECS::TaskDefinition":
            continue
        props = resource["Properties"]
        (container,) = props["ContainerDefinitions"]
        assert props["TaskRoleArn"] == {"Fn::GetAtt": [TASK_ROLES[container["Name"]], "Arn"]}
        seen.add(container["Name"])
    assert seen == set(TASK_ROLES)


def test_what_each_process_must_not_do() -> None:
    """The boundaries the table is for, spelled out: a slip in both table and template fails here."""
    granted = {role: {a for a, _ in g} for role, g in role_grants(template()).items()}
    ingress = granted["IngressTaskRole"]
    assert not {a for a in ingress if a.startswith(("s3:", "ecs:", "iam:", "secretsmanager:"))}
    assert not ingress & {"sqs:ReceiveMessage", "sqs:DeleteMessage"}
    assert granted["PartnerCentralCatalogRole"] == {"partnercentral:ListSolutions"}
    assert not any(a.startswith(("sts:", "partnercentral:", "sqs:")) for a in granted["WebserverTaskRole"])
    assert not any(
        a.startswith(("sts:", "partnercentral:", "sqs:", "s3:")) for a in granted["DaemonTaskRole"]
    )
    assert not any(a.startswith(("sts:", "s3:", "ecs:")) for a in granted["CodeLocationTaskRole"])
    # Only the run workers may assume the role that writes to Partner Central.
    assumers = {role for role, actions in granted.items() if "sts:AssumeRole" in actions}
    assert assumers == {"RunTaskRole", "IngressTaskRole"}
    run_assumes = {r for a, r in role_grants(template())["RunTaskRole"] if a == "sts:AssumeRole"}
    assert run_assumes == {"{PartnerCentralRole}"}
    passed = {r for a, r in role_grants(template())["DaemonTaskRole"] if a == "iam:PassRole"}
    assert passed == {"{RunTaskRole}", "{RunExecutionRole}"}
    assert not any("*" in action for actions in granted.values() for action in actions)
