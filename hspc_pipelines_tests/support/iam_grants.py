"""What each IAM role of deploy/cloudformation.yaml is granted, as (action, resource) pairs in a
readable form, and the "Roles" table of docs/security.md parsed into the same shape."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PSEUDO = {
    "${AWS::Partition}": "aws",
    "${AWS::Region}": "{region}",
    "${AWS::AccountId}": "{account}",
    "${AWS::StackName}": "{stack}",
}
ACTIONS_FILE_TOKEN = "deploy/partner_central_actions.txt"


def _sub(text: str, variables: dict[str, str] | None = None) -> str:
    for key, value in PSEUDO.items():
        text = text.replace(key, value)
    for key, value in (variables or {}).items():
        text = text.replace("${" + key + "}", value)
    # ${Resource.Arn} -> {Resource}, ${Name} -> {Name}
    return re.sub(r"\$\{([A-Za-z0-9]+)(?:\.Arn)?\}", r"{\1}", text)


def render(value: Any) -> str:
    """One resource of a policy statement as text: Ref/GetAtt as the logical name in braces."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "{" + str(value["Ref"]) + "}"
    if "Fn::GetAtt" in value:
        name, attribute = value["Fn::GetAtt"]
        return "{" + name + "}" if attribute == "Arn" else "{" + f"{name}.{attribute}" + "}"
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        if isinstance(sub, str):
            return _sub(sub)
        text, variables = sub
        return _sub(text, {k: render(v) for k, v in variables.items()})
    if "Fn::FindInMap" in value:
        return "{" + ".".join(value["Fn::FindInMap"][1:]) + "}"
    if "Fn::If" in value:
        _, yes, no = value["Fn::If"]
        return f"{render(yes)} or {render(no)}"
    raise ValueError(f"cannot render policy resource {value!r}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_grants(template: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """Role logical name -> {(action, resource)} from its inline policies and AWS::IAM::Policy
    resources attached to it. Managed policies are refused: their actions are not in the template."""
    resources = template["Resources"]
    grants: dict[str, set[tuple[str, str]]] = {}
    documents: list[tuple[str, dict[str, Any]]] = []
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            assert "ManagedPolicyArns" not in props, f"{name}: managed policies hide their actions"
            grants.setdefault(name, set())
            documents += [(name, p["PolicyDocument"]) for p in props.get("Policies", [])]
        elif resource["Type"] == "AWS::IAM::Policy":
            for role in props["Roles"]:
                documents.append((role["Ref"], props["PolicyDocument"]))
    for role, document in documents:
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow", f"{role}: only Allow statements are expected"
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    grants.setdefault(role, set()).add((action, render(resource)))
    return grants


def documented_grants(markdown: str, listed_actions: list[str]) -> dict[str, set[tuple[str, str]]]:
    """The table under "## Roles": | Role | Actions | Resources |, several rows per role allowed,
    cells listing `code` items separated by commas or <br>."""
    section = markdown.split("\n## Roles", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:  # the first table only
        if not line.startswith("|"):
            break
        rows.append(line)
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["Role", "Actions", "Resources"], header
    grants: dict[str, set[tuple[str, str]]] = {}
    for row in rows[2:]:
        role_cell, action_cell, resource_cell = (cell.strip() for cell in row.strip().strip("|").split("|"))
        role = re.findall(r"`([^`]+)`", role_cell)[0]
        actions = re.findall(r"`([^`]+)`", action_cell)
        if actions == [ACTIONS_FILE_TOKEN]:
            actions = listed_actions
        for action in actions:
            for resource in re.findall(r"`([^`]+)`", resource_cell):
                grants.setdefault(role, set()).add((action, resource))
    return grants


def distinct_actions(grants: set[tuple[str, str]]) -> int:
    return len({action for action, _ in grants})


def load_markdown(path: Path) -> str:
    return path.read_text()
