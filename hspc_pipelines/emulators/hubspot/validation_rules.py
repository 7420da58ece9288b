"""A portal's required-property rules, enforced on writes made at version 2026-09 or later, as HubSpot does.

HubSpot (developer changelog "CRM API Write Validation Enforcement Starting with the 2026-09 API
Version") applies two kinds of admin-configured rules to API creates and updates from 2026-09 on;
numbered paths and 2026-03 ignore them. A refusal is HTTP 400:

    {"status": "error", "category": "VALIDATION_ERROR", "message": "The property values provided are invalid",
     "correlationId": "...", "errors": [{"code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
     "message": "closedate is required because of a conditional property rule based on [dealstage]",
     "context": {"propertyName": ["closedate"]}}]}

(`MISSING_REQUIRED_PROPERTY`, "A value for X must be provided", for the Create Record form's fields.)

Configured like the other faults (`POST /_emulator/config {"validation_rules": [...]}`), each rule:
`{"objectType": "deals", "propertyName": "closedate", "kind": "conditional",
"when": {"propertyName": "dealstage", "values": ["closedwon"]}}` or
`{"objectType": "deals", "propertyName": "hs_priority", "kind": "on_create"}`.

The emulator's model of "missing on write": a conditional rule applies to a create, and to an update
that sets the controlling property or the required one, when the record would then have a trigger
value and no value for the required property. HubSpot has no API that reads these rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .objecttypes import canonical

CONDITIONAL, ON_CREATE = "conditional", "on_create"
ENFORCED_FROM = "2026-09"
_VERSION = re.compile(r"\d{4}-\d{2}")


@dataclass(frozen=True)
class Rule:
    object_type: str
    property_name: str
    kind: str
    when_property: str | None = None
    when_values: frozenset[str] = frozenset()

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "objectType": self.object_type,
            "propertyName": self.property_name,
            "kind": self.kind,
        }
        if self.kind == CONDITIONAL:
            out["when"] = {"propertyName": self.when_property, "values": sorted(self.when_values)}
        return out


def parse_rules(spec: Any) -> list[Rule]:
    """The rules of a config request; a bad one is refused naming the field and what is allowed."""
    if spec is None:
        return []
    if not isinstance(spec, list):
        raise ApiError(400, "validation_rules must be a list of rules")
    rules = []
    for n, item in enumerate(spec):
        if not isinstance(item, Mapping) or not item.get("propertyName"):
            raise ApiError(400, f"validation_rules[{n}] needs objectType, propertyName and kind")
        kind = item.get("kind")
        if kind not in (CONDITIONAL, ON_CREATE):
            raise ApiError(400, f"validation_rules[{n}].kind={kind!r}; allowed: {CONDITIONAL}, {ON_CREATE}")
        when = item.get("when") or {}
        if kind == CONDITIONAL and (not isinstance(when, Mapping) or not when.get("propertyName")):
            raise ApiError(400, f"validation_rules[{n}].when needs propertyName and values")
        rules.append(
            Rule(
                canonical(str(item.get("objectType") or "")),
                str(item["propertyName"]),
                kind,
                str(when["propertyName"]) if kind == CONDITIONAL else None,
                frozenset(str(v) for v in when.get("values") or []) if kind == CONDITIONAL else frozenset(),
            )
        )
    return rules


def enforced(version: str | None) -> bool:
    """Whether a call at this path version is checked: date-based 2026-09 and later (beta included)."""
    return bool(version and _VERSION.match(version) and version[:7] >= ENFORCED_FROM)


def _empty(value: Any) -> bool:
    return value is None or str(value) == ""


def check(
    rules: list[Rule],
    object_type: str,
    props: Mapping[str, Any],
    existing: Mapping[str, Any] | None,
) -> None:
    """Raise HubSpot's 400 when `props` (a create when `existing` is None) breaks a rule."""
    after = {**(existing or {}), **props}
    errors = []
    for rule in rules:
        if rule.object_type != object_type or not _empty(after.get(rule.property_name)):
            continue
        if rule.kind == ON_CREATE and existing is None:
            errors.append(
                {
                    "code": "MISSING_REQUIRED_PROPERTY",
                    "message": f"A value for {rule.property_name} must be provided",
                    "context": {"propertyName": [rule.property_name]},
                }
            )
        elif (
            rule.kind == CONDITIONAL
            and str(after.get(rule.when_property or "")) in rule.when_values
            and (existing is None or rule.when_property in props or rule.property_name in props)
        ):
            errors.append(
                {
                    "code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
                    "message": f"{rule.property_name} is required because of a conditional property "
                    f"rule based on [{rule.when_property}]",
                    "context": {"propertyName": [rule.property_name]},
                }
            )
    if errors:
        raise ApiError(400, "The property values provided are invalid", "VALIDATION_ERROR", errors=errors)
