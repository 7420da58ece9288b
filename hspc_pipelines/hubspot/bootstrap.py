"""Create the custom HubSpot properties the product reads and writes (idempotent), and migrate the ones a
portal already holds with other definitions (`hspc bootstrap --migrate`).

A portal coming from the Lambda system holds some of these properties with another type (for
example `aws_engagement_score` as a number, now High/Medium/Low). HubSpot changes a property's options
and field type on request (PATCH), but refuses to change the type of a property records hold values
for; those are reported with what to do by hand. Nothing here deletes a property, an option or a value:
options are only added, and existing ones are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hspc_pipelines.mapping.properties import CUSTOM_DEAL_PROPERTIES, CUSTOM_NOTE_PROPERTIES

if TYPE_CHECKING:
    from hspc_pipelines.hubspot.client import HubSpotClient

EXPECTED: Mapping[str, Sequence[Mapping[str, Any]]] = {
    "deals": CUSTOM_DEAL_PROPERTIES,
    "notes": CUSTOM_NOTE_PROPERTIES,
}


def bootstrap_properties(client: HubSpotClient) -> list[str]:
    """Custom deal and note properties; returns `object_type.name` of those created now."""
    created = [f"deals.{n}" for n in client.ensure_properties("deals", CUSTOM_DEAL_PROPERTIES)]
    created += [f"notes.{n}" for n in client.ensure_properties("notes", CUSTOM_NOTE_PROPERTIES)]
    return created


@dataclass(frozen=True)
class PropertyDiff:
    """How a portal's property differs from what hspc expects (pure data; `changes` says it in words)."""

    object_type: str
    name: str
    missing: bool = False
    type: tuple[str, str] | None = None  # (portal's, expected)
    field_type: tuple[str, str] | None = None
    missing_options: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.object_type}.{self.name}"

    def changes(self) -> list[str]:
        if self.missing:
            return ["missing"]
        out = []
        if self.type:
            out.append(f"type {self.type[0]} -> {self.type[1]}")
        if self.field_type:
            out.append(f"fieldType {self.field_type[0]} -> {self.field_type[1]}")
        if self.missing_options:
            out.append(f"options to add: {', '.join(self.missing_options)}")
        return out


def diff_property(
    object_type: str, expected: Mapping[str, Any], actual: Mapping[str, Any] | None
) -> PropertyDiff:
    """What `actual` (HubSpot's definition, or None when absent) lacks of `expected`. Pure."""
    name = str(expected["name"])
    if actual is None:
        return PropertyDiff(object_type, name, missing=True)
    kind = (str(actual.get("type")), str(expected["type"]))
    field_type = (str(actual.get("fieldType")), str(expected["fieldType"]))
    present = {str(o.get("value")) for o in actual.get("options") or []}
    wanted = [str(o["value"]) for o in expected.get("options") or []]
    return PropertyDiff(
        object_type,
        name,
        type=kind if kind[0] != kind[1] else None,
        field_type=field_type if field_type[0] != field_type[1] else None,
        missing_options=tuple(v for v in wanted if v not in present),
    )


def diff_portal(definitions: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[PropertyDiff]:
    """Every expected property that differs, given the portal's definitions per object type. Pure."""
    out = []
    for object_type, expected in EXPECTED.items():
        have = {str(p.get("name")): p for p in definitions.get(object_type, ())}
        for definition in expected:
            diff = diff_property(object_type, definition, have.get(str(definition["name"])))
            if diff.changes():
                out.append(diff)
    return out


def portal_diffs(client: HubSpotClient) -> list[PropertyDiff]:
    return diff_portal({t: client.list_properties(t) for t in EXPECTED})


def uniqueness_advice(definitions: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
    """By-hand lines for properties hspc wants unique that a portal holds without unique values. Pure.

    HubSpot chooses `hasUniqueValue` when a property is created: its PropertyUpdate has no such field,
    so no PATCH can change it. hspc works without it (the import looks deals up by search, which lags
    writes by seconds), so these lines do not fail the migration."""
    out = []
    for object_type, expected in EXPECTED.items():
        have = {str(p.get("name")): p for p in definitions.get(object_type, ())}
        for definition in expected:
            actual = have.get(str(definition["name"]))
            if definition.get("hasUniqueValue") and actual is not None and not actual.get("hasUniqueValue"):
                out.append(
                    f"{object_type}.{definition['name']}: (optional) has no unique values and HubSpot "
                    "sets that only when a property is created; hspc looks deals up by search instead "
                    "(a deal linked seconds before a run may be found only by the next one). To have "
                    "it: export the deals' values, archive the property, run `hspc bootstrap`, re-import "
                    "the values (docs/migrating.md)"
                )
    return out


@dataclass
class MigrationReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # "deals.name: what changed"
    by_hand: list[str] = field(default_factory=list)  # "deals.name: what HubSpot said; what to do"
    optional: list[str] = field(default_factory=list)  # by hand, but hspc works without (uniqueness)

    @property
    def complete(self) -> bool:
        return not self.by_hand


def migrate_properties(
    client: HubSpotClient, *, apply: bool = True
) -> tuple[list[PropertyDiff], MigrationReport]:
    """The differences, and (with `apply`) what was created, updated, or is left to do by hand."""
    from hspc_pipelines.hubspot.errors import HubSpotError  # the client's errors: I/O side only

    definitions = {t: client.list_properties(t) for t in EXPECTED}
    diffs = diff_portal(definitions)
    report = MigrationReport(optional=uniqueness_advice(definitions))
    if not apply:
        return diffs, report
    current = {t: {str(p["name"]): p for p in client.list_properties(t)} for t in EXPECTED}
    for diff in diffs:
        expected = next(d for d in EXPECTED[diff.object_type] if d["name"] == diff.name)
        if diff.missing:
            report.created += [
                f"{diff.object_type}.{n}" for n in client.ensure_properties(diff.object_type, [expected])
            ]
            continue
        body = _update_body(expected, current[diff.object_type][diff.name], diff)
        try:
            client.update_property(diff.object_type, diff.name, body)
        except HubSpotError as exc:
            report.by_hand.append(f"{diff.key}: HubSpot refused ({exc.message}); {_by_hand(diff)}")
            continue
        report.updated.append(f"{diff.key}: {'; '.join(diff.changes())}")
    return diffs, report


def _update_body(
    expected: Mapping[str, Any], actual: Mapping[str, Any], diff: PropertyDiff
) -> dict[str, Any]:
    """PropertyUpdate: the expected type and field type; the portal's options kept, the missing added."""
    body: dict[str, Any] = {"type": expected["type"], "fieldType": expected["fieldType"]}
    if expected.get("options"):
        kept = [
            {k: o[k] for k in ("label", "value", "displayOrder", "hidden", "description") if k in o}
            for o in actual.get("options") or []
            if diff.type is None  # a type change drops options of the old type (none hold values then)
        ]
        for option in kept:
            option.setdefault("hidden", False)
        added = [dict(o) for o in expected["options"] if str(o["value"]) in diff.missing_options]
        body["options"] = kept + added
    return body


def _by_hand(diff: PropertyDiff) -> str:
    if diff.type:
        old, new = diff.type
        return (
            f"HubSpot keeps the type of a property that records hold values for. In HubSpot, export the "
            f"{diff.object_type} with a value in {diff.name} (it was {old}), clear that property on them "
            f"(or ask HubSpot support to convert it), then run `hspc bootstrap --migrate` again to make it "
            f"{new}; hspc rewrites the values on the next sync"
        )
    return f"in HubSpot > Settings > Properties, edit {diff.name}: {'; '.join(diff.changes())}"
