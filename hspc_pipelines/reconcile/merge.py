"""The three-way merge of a linked pair, field by field. Pure.

For each field mapped both ways (`MERGED_FIELDS`) the plan compares three values, all in Partner
Central's terms and normalised as the HubSpot-owned view normalises them (`mapping.view.normalise`):
the deal's (what `build_body` maps it to), the opportunity's, and the **base**, the value both sides
last agreed on (kept per pair in the state store, `base_store`).

- both sides hold the same value: agreed (this becomes the field's base);
- no base yet (a pair linked before the merge existed): the field's owner wins, as before;
- only HubSpot moved away from the base: HubSpot wins (the update sends it);
- only Partner Central moved: Partner Central wins (the deal gets it through `mapping.reverse`);
- both moved to different values: a conflict, decided by `MappingConfig.conflict_policy`.

For the deal's own fields (`DEAL_FIELDS`) the decision is expressed as an ownership per field for
this pair and this run (`MergeDecision.effective_config`): the update request carries only the fields
HubSpot wins, and `opportunity_to_deal_properties` writes back the fields Partner Central wins, so the
rest of the plan (title freeze, the review lock, validation) applies unchanged. The customer's
members, the contacts and the multi-selects are decided member by member: a member Partner Central
wins keeps its value in the update (`keep_partner_central`) and goes to the deal's company, contacts
or deal properties (`writes`) when those map back to it (`representable_writes`); otherwise it stays
in Partner Central only (`unrepresentable`), never reverted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from hspc_pipelines.hubspot.notes import NoteSpec
from hspc_pipelines.mapping import DealBundle, MappingConfig
from hspc_pipelines.mapping.build import OWNED_PATHS, Body, build_body
from hspc_pipelines.mapping.config import HUBSPOT, PARTNER_CENTRAL
from hspc_pipelines.mapping.reverse import (
    MEMBER_FIELD,
    MEMBER_PATHS,
    MEMBER_SOURCES,
    RecordWrites,
    member_to_hubspot,
)
from hspc_pipelines.mapping.values import dig, to_date
from hspc_pipelines.mapping.view import ViewValue, normalise

# The fields the deal itself holds (title→dealname with the tag, problem→description, spend→amount,
# stage→dealstage, close date→closedate): the side that wins one owns it for the pair and this run.
DEAL_FIELDS: Final = ("title", "problem", "spend", "stage", "close_date")
# Then, member by member, what HubSpot holds on the deal's company (name, industry, website, address),
# its contacts and the deal's multi-selects (`mapping.reverse.MEMBER_PATHS`): a Partner Central value
# that wins goes to those records (`RecordWrites`), and the update carries it unchanged.
MERGED_FIELDS: Final = (*DEAL_FIELDS, *MEMBER_PATHS)
FIELD_PATHS: Final = {**{f: OWNED_PATHS[f] for f in DEAL_FIELDS}, **MEMBER_PATHS}
CONFLICT_POLICIES: Final = ("owner", "hubspot", "partner_central", "newest")
# Where the snapshot keeps the time each HubSpot property last changed (its newest history entry),
# under `conflict_policy: newest`: a key no HubSpot property can have, holding JSON {name: ISO time}.
PROPERTY_TIMESTAMPS: Final = "@property_timestamps"
_DEAL_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "title": ("dealname",),
    "problem": ("description",),
    "spend": ("amount", "deal_currency_code", "aws_expected_spend"),
    "stage": ("dealstage", "pipeline"),
    "close_date": ("closedate",),
}
# The HubSpot properties each merged field is read from: (record, properties).
FIELD_SOURCES: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    **{f: ("deal", p) for f, p in _DEAL_SOURCES.items()},
    **MEMBER_SOURCES,
    "customer.industry": ("company", ("industry",)),  # and the deal's aws_industry (see `_stamp`)
}

# A field's value in the base: one normalised value per member of the field (JSON-safe).
FieldValue = list[ViewValue]
Base = Mapping[str, FieldValue]


def _field_value(
    values: Mapping[tuple[str, ...], Any] | None, opp: Mapping[str, Any] | None, name: str
) -> FieldValue:
    out: FieldValue = []
    for path in FIELD_PATHS[name]:
        raw = values.get(path) if values is not None else dig(opp, *path)
        try:
            out.append(normalise(path[-1], raw))
        except Exception:  # noqa: BLE001 - a junk value compares as empty rather than break the plan
            out.append(None)
    return out


def hubspot_values(body: Body) -> dict[str, FieldValue]:
    """The deal's value of each merged field, in Partner Central's terms; fields the deal cannot
    map (a validation error) are left out: the plan reports them as invalid."""
    return {
        f: _field_value(body.values, None, f)
        for f in MERGED_FIELDS
        if not body.errors.get(MEMBER_FIELD.get(f, f))
    }


def partner_central_values(opportunity: Mapping[str, Any]) -> dict[str, FieldValue]:
    return {f: _field_value(None, opportunity, f) for f in MERGED_FIELDS}


@dataclass(frozen=True)
class FieldConflict:
    """A field both sides changed since the base; `winner` is the side whose value both now hold."""

    field: str
    winner: str
    hubspot: FieldValue
    partner_central: FieldValue
    base: FieldValue

    @property
    def lost(self) -> FieldValue:
        return self.partner_central if self.winner == HUBSPOT else self.hubspot

    @property
    def kept(self) -> FieldValue:
        return self.hubspot if self.winner == HUBSPOT else self.partner_central

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "winner": self.winner,
            "hubspot": self.hubspot,
            "partner_central": self.partner_central,
            "base": self.base,
        }


@dataclass
class MergeDecision:
    """Who wins each field that differs (`winners`), what both sides hold alike (`agreed`), and the
    conflicts among the winners."""

    winners: dict[str, str] = field(default_factory=dict)
    agreed: dict[str, FieldValue] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)
    # Members Partner Central wins: what HubSpot's records get (`writes`), and those it cannot hold
    # (kept in Partner Central, the records unchanged: `unrepresentable`).
    writes: RecordWrites = field(default_factory=RecordWrites)
    unrepresentable: list[str] = field(default_factory=list)

    def effective_config(self, config: MappingConfig) -> MappingConfig:
        """`config` with each differing deal field owned by the side that wins it, for this pair, and
        each logical field with a member HubSpot wins owned by HubSpot (its other members carry
        Partner Central's values: `keep_partner_central`)."""
        ownership = {**config.ownership, **{f: w for f, w in self.winners.items() if f in DEAL_FIELDS}}
        for member, winner in self.winners.items():
            if member not in DEAL_FIELDS and winner == HUBSPOT:
                ownership[MEMBER_FIELD[member]] = HUBSPOT
        return config if ownership == dict(config.ownership) else replace(config, ownership=ownership)

    def keep_partner_central(self, body: Body, opportunity: Mapping[str, Any]) -> None:
        """The body with Partner Central's own values for the members it wins, so the update request
        (which sends whole logical fields) leaves them as they are."""
        for member, winner in self.winners.items():
            if member in DEAL_FIELDS or winner != PARTNER_CENTRAL:
                continue
            for path in MEMBER_PATHS[member]:
                value = dig(opportunity, *path)
                if value in (None, "", [], {}):
                    body.values.pop(path, None)
                else:
                    body.values[path] = value

    @property
    def partner_central_wins(self) -> list[str]:
        return [f for f, w in self.winners.items() if w == PARTNER_CENTRAL]

    def new_base(self, old: Base | None) -> dict[str, FieldValue] | None:
        """The base to keep after this plan (the old one with the agreed fields), or None when it
        would not change."""
        merged = {**(old or {}), **self.agreed}
        return merged if merged != dict(old or {}) else None


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():  # HubSpot epoch milliseconds
            return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            day = to_date(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) if day else None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _stamps(record: Mapping[str, Any] | None) -> dict[str, Any]:
    raw = record.get(PROPERTY_TIMESTAMPS) if record else None
    try:
        stamps = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return stamps if isinstance(stamps, dict) else {}


def hubspot_changed_at(name: str, bundle: DealBundle) -> dt.datetime | None:
    """When HubSpot's value of a merged field last changed: the newest history timestamp of the
    properties it is read from (the company's for customer members, the deal's `aws_industry` too for
    the industry), else that record's `hs_lastmodifieddate` when the snapshot read no history."""
    kind, props = FIELD_SOURCES[name]
    records: list[Mapping[str, Any]] = []
    if kind == "deal":
        records = [bundle.deal]
    elif kind == "company" and bundle.company is not None:
        records = [bundle.company]
    elif kind == "contacts":
        records = list(bundle.contacts)
    found = [
        stamp
        for record in records
        for prop in props
        if (stamp := _instant(_stamps(record).get(prop))) is not None
    ]
    if name == "customer.industry" and (stamp := _instant(_stamps(bundle.deal).get("aws_industry"))):
        found.append(stamp)
    if not found:
        found = [s for r in records if (s := _instant(r.get("hs_lastmodifieddate"))) is not None]
    return max(found) if found else None


def conflict_winner(
    name: str, config: MappingConfig, bundle: DealBundle, opportunity: Mapping[str, Any]
) -> str:
    """The side `config.conflict_policy` picks for a field both sides changed. `newest` compares when
    HubSpot's property last changed (`hubspot_changed_at`, from its history) with the opportunity's
    `LastModifiedDate` (HubSpot wins a tie or a missing stamp: it is where the seller works)."""
    policy = config.conflict_policy
    if policy == HUBSPOT:
        return HUBSPOT
    if policy == PARTNER_CENTRAL:
        return PARTNER_CENTRAL
    if policy == "newest":
        hs, pc = hubspot_changed_at(name, bundle), _instant(opportunity.get("LastModifiedDate"))
        return PARTNER_CENTRAL if hs is not None and pc is not None and pc > hs else HUBSPOT
    return config.owner(MEMBER_FIELD.get(name, name))


def representable_writes(
    name: str, bundle: DealBundle, opportunity: Mapping[str, Any], config: MappingConfig
) -> RecordWrites | None:
    """The HubSpot writes that hold Partner Central's value of a member (`MEMBER_PATHS`), or None
    when HubSpot cannot: no writes for it, or writes that would map back to another value (so a
    write could only ping-pong)."""
    writes = member_to_hubspot(name, opportunity, bundle.deal, bundle.company, bundle.contacts, config)
    if writes is None:
        return None
    after = DealBundle(
        bundle.deal_id,
        {**bundle.deal, **writes.deal},
        {**bundle.company, **writes.company} if bundle.company is not None else None,
        [{**c, **writes.contacts.get(str(c.get("hs_object_id")), {})} for c in bundle.contacts],
    )
    try:
        mapped = hubspot_values(build_body(after, config)).get(name)
    except Exception:  # noqa: BLE001 - a value the mapping cannot take is one HubSpot cannot hold
        return None
    return writes if mapped == _field_value(None, opportunity, name) else None


def decide(
    hubspot: Mapping[str, FieldValue],
    partner_central: Mapping[str, FieldValue],
    base: Base | None,
    config: MappingConfig,
    bundle: DealBundle,
    opportunity: Mapping[str, Any],
) -> MergeDecision:
    """The merge of one pair (see the module's docstring)."""
    decision = MergeDecision()
    for name in MERGED_FIELDS:
        if name not in hubspot:
            continue  # the deal's value does not map: the row is invalid, nothing to merge
        hs, pc = list(hubspot[name]), list(partner_central.get(name) or [])
        if hs == pc:
            decision.agreed[name] = hs
            continue
        known = None if base is None else base.get(name)
        if known is None:
            # no agreement recorded yet: the owner wins, as before the merge
            if name not in DEAL_FIELDS:
                decision.winners[name] = config.owner(MEMBER_FIELD[name])
        else:
            hs_moved, pc_moved = hs != list(known), pc != list(known)
            if hs_moved and not pc_moved:
                decision.winners[name] = HUBSPOT
            elif pc_moved and not hs_moved:
                decision.winners[name] = PARTNER_CENTRAL
            else:
                winner = conflict_winner(name, config, bundle, opportunity)
                writes = None
                if winner == PARTNER_CENTRAL and name not in DEAL_FIELDS:
                    writes = representable_writes(name, bundle, opportunity, config)
                    # HubSpot cannot hold Partner Central's value: the pair could never agree, so
                    # HubSpot's goes out, and the note keeps the value that lost
                    winner = HUBSPOT if writes is None else winner
                decision.winners[name] = winner
                decision.conflicts.append(FieldConflict(name, winner, hs, pc, list(known)))
                if writes is not None:
                    decision.writes.update(writes)
                continue
        if name not in DEAL_FIELDS and decision.winners.get(name) == PARTNER_CENTRAL:
            writes = representable_writes(name, bundle, opportunity, config)
            if writes is None:
                decision.unrepresentable.append(name)  # kept in Partner Central, never reverted
            else:
                decision.writes.update(writes)
    return decision


def _shown(value: FieldValue) -> str:
    parts = [json.dumps(v) if isinstance(v, list) else (v or "(empty)") for v in value]
    return ", ".join(parts) or "(empty)"


def conflict_note(opportunity_id: str, conflicts: list[FieldConflict]) -> NoteSpec:
    """One note for all the conflicts a plan resolved on a pair: what was kept and what was lost."""
    lines = [f"⚖️ Edited on both sides since the last sync (opportunity {opportunity_id}):"]
    for c in conflicts:
        side = "HubSpot" if c.winner == HUBSPOT else "Partner Central"
        lines.append(
            f"- {c.field}: kept {side}'s {_shown(c.kept)}; the other side's {_shown(c.lost)} was replaced"
        )
    text = json.dumps([c.as_dict() for c in conflicts], sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return NoteSpec(key=f"conflict:{opportunity_id}:{digest}", body="\n".join(lines))


def conflict_reason(rows: list[dict[str, Any]]) -> str:
    """The plan row's reason for its conflicts (as `FieldConflict.as_dict` gives them)."""
    conflicts = [FieldConflict(**r) for r in rows]
    return "; ".join(f"conflict on {c.field}: {c.winner} wins, lost {_shown(c.lost)}" for c in conflicts)


def merge_pair(
    bundle: DealBundle, body: Body, opportunity: Mapping[str, Any], base: Base | None, config: MappingConfig
) -> MergeDecision:
    """`decide` for a deal (mapped to `body`) and its opportunity."""
    return decide(
        hubspot_values(body), partner_central_values(opportunity), base, config, bundle, opportunity
    )
