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

The decision is expressed as an ownership per field for this pair and this run
(`MergeDecision.effective_config`): the update request carries only the fields HubSpot wins, and
`opportunity_to_deal_properties` writes back the fields Partner Central wins, so the rest of the plan
(title freeze, the review lock, validation) applies unchanged.
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
from hspc_pipelines.mapping.build import OWNED_PATHS, Body
from hspc_pipelines.mapping.config import HUBSPOT, PARTNER_CENTRAL
from hspc_pipelines.mapping.values import dig, to_date
from hspc_pipelines.mapping.view import ViewValue, normalise

# The fields the deal itself can hold both ways (title→dealname with the tag, problem→description,
# spend→amount, stage→dealstage, close date→closedate). Customer and contacts live on HubSpot's
# company and contact records: HubSpot keeps owning them (docs/two-way.md says what happens).
MERGED_FIELDS: Final = ("title", "problem", "spend", "stage", "close_date")
CONFLICT_POLICIES: Final = ("owner", "hubspot", "partner_central", "newest")

# A field's value in the base: one normalised value per member of the field (JSON-safe).
FieldValue = list[ViewValue]
Base = Mapping[str, FieldValue]


def _field_value(
    values: Mapping[tuple[str, ...], Any] | None, opp: Mapping[str, Any] | None, name: str
) -> FieldValue:
    out: FieldValue = []
    for path in OWNED_PATHS[name]:
        raw = values.get(path) if values is not None else dig(opp, *path)
        try:
            out.append(normalise(path[-1], raw))
        except Exception:  # noqa: BLE001 - a junk value compares as empty rather than break the plan
            out.append(None)
    return out


def hubspot_values(body: Body) -> dict[str, FieldValue]:
    """The deal's value of each merged field, in Partner Central's terms; fields the deal cannot
    map (a validation error) are left out: the plan reports them as invalid."""
    return {f: _field_value(body.values, None, f) for f in MERGED_FIELDS if not body.errors.get(f)}


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

    def effective_config(self, config: MappingConfig) -> MappingConfig:
        """`config` with each differing field owned by the side that wins it, for this pair."""
        ownership = {**config.ownership, **self.winners}
        return config if ownership == dict(config.ownership) else replace(config, ownership=ownership)

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


def conflict_winner(
    name: str, config: MappingConfig, deal: Mapping[str, Any], opportunity: Mapping[str, Any]
) -> str:
    """The side `config.conflict_policy` picks for a field both sides changed. `newest` compares the
    deal's `hs_lastmodifieddate` with the opportunity's `LastModifiedDate` (HubSpot wins a tie or a
    missing stamp: it is where the seller works)."""
    policy = config.conflict_policy
    if policy == HUBSPOT:
        return HUBSPOT
    if policy == PARTNER_CENTRAL:
        return PARTNER_CENTRAL
    if policy == "newest":
        hs, pc = _instant(deal.get("hs_lastmodifieddate")), _instant(opportunity.get("LastModifiedDate"))
        return PARTNER_CENTRAL if hs is not None and pc is not None and pc > hs else HUBSPOT
    return config.owner(name)


def decide(
    hubspot: Mapping[str, FieldValue],
    partner_central: Mapping[str, FieldValue],
    base: Base | None,
    config: MappingConfig,
    deal: Mapping[str, Any],
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
            continue  # no agreement recorded yet: the owner wins, as before the merge
        hs_moved, pc_moved = hs != list(known), pc != list(known)
        if hs_moved and not pc_moved:
            decision.winners[name] = HUBSPOT
        elif pc_moved and not hs_moved:
            decision.winners[name] = PARTNER_CENTRAL
        else:
            winner = conflict_winner(name, config, deal, opportunity)
            decision.winners[name] = winner
            decision.conflicts.append(FieldConflict(name, winner, hs, pc, list(known)))
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
        hubspot_values(body), partner_central_values(opportunity), base, config, bundle.deal, opportunity
    )
