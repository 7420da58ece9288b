"""A portal's required-property rules refusing a write, as HubSpot says it and as hspc reports it.

From API version 2026-09 HubSpot applies the rules a portal's admin configured (a property required
when another has some value; properties the Create Record form requires) to every CRM create and
update. A refusal is HTTP 400, `category: VALIDATION_ERROR`, with one `errors[]` entry per rule hit:
`code` MISSING_CONDITIONAL_REQUIRED_PROPERTY or MISSING_REQUIRED_PROPERTY and
`context.propertyName` naming the property (docs/hubspot-api-versions.md has the source). Such a row
is `invalid` (the data or the portal's rule must change), never `failed` and never retried as is.

The reason text names the rule and the property in one fixed form, so `hspc doctor` can list the rules
a portal has refused writes with (HubSpot has no API that reads these rules). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

CONDITIONAL: Final = "MISSING_CONDITIONAL_REQUIRED_PROPERTY"
ON_CREATE: Final = "MISSING_REQUIRED_PROPERTY"
RULE_KINDS: Final[dict[str, str]] = {
    CONDITIONAL: "a conditional property rule",
    ON_CREATE: "required by the Create Record form",
}
MARKER: Final = "HubSpot portal rule"
_HIT = re.compile(rf"{MARKER} (?P<code>[A-Z_]+) requires (?P<props>[^:;]+?) \(")


@dataclass(frozen=True)
class RuleHit:
    """One rule HubSpot applied: its code, the properties it requires, HubSpot's own words."""

    code: str
    properties: tuple[str, ...]
    message: str

    def describe(self) -> str:
        props = ", ".join(self.properties) or "a property"
        return f"{MARKER} {self.code} requires {props} ({RULE_KINDS[self.code]}): {self.message}"


@dataclass(frozen=True)
class PortalRuleRefusal:
    """Every rule hit of one refused write."""

    hits: tuple[RuleHit, ...]

    @property
    def properties(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for h in self.hits for p in h.properties))

    def describe(self) -> str:
        what = "; ".join(h.describe() for h in self.hits)
        return (
            f"{what} (set {', '.join(self.properties) or 'the property'} on the record, "
            "or ask the portal's admin to change the rule; not retried until then)"
        )


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def refusal_from(error: Mapping[str, Any] | None) -> PortalRuleRefusal | None:
    """The rule hits of a HubSpot error body (or one 207 `errors[]` entry); None when the error is
    anything else (a bad value, a missing property definition, a rate limit)."""
    if not isinstance(error, Mapping) or error.get("category") != "VALIDATION_ERROR":
        return None
    hits = []
    for detail in error.get("errors") or []:
        if not isinstance(detail, Mapping) or detail.get("code") not in RULE_KINDS:
            continue
        context = detail.get("context") if isinstance(detail.get("context"), Mapping) else {}
        hits.append(
            RuleHit(
                str(detail["code"]),
                _names((context or {}).get("propertyName")),
                str(detail.get("message") or ""),
            )
        )
    return PortalRuleRefusal(tuple(hits)) if hits else None


def rules_in(texts: Iterable[str | None]) -> dict[tuple[str, str], int]:
    """(rule code, property) -> how many of `texts` (reasons hspc recorded) name it."""
    seen: dict[tuple[str, str], int] = {}
    for text in texts:
        for match in _HIT.finditer(text or ""):
            for prop in (p.strip() for p in match["props"].split(",")):
                key = (match["code"], prop)
                seen[key] = seen.get(key, 0) + 1
    return seen
