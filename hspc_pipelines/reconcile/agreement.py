"""Proof of agreement: for each field mapped both ways, how many linked pairs disagree and why. Pure.

Run on the state a sweep leaves behind (`converge.state_after_apply`), every disagreement should have
a reason the product knows and tells the seller about:

- `waiting for review`: the opportunity is Submitted / In review, ACE refuses updates, the change waits;
- `title frozen`: the title after submission (the deal got the "title change blocked" note);
- `conflict pending`: both sides moved away from the base (the next plan settles it by the policy);
- `invalid in HubSpot`: the deal's value does not map (the row is `invalid`, the deal says why);
- `not representable in HubSpot`: a Partner Central stage the deal's pipeline has no stage for, or a
  customer, contacts or multi-select value HubSpot's records cannot hold (`merge.representable_writes`:
  an industry with no HubSpot option, a contact HubSpot does not have, no company): kept in Partner
  Central, never reverted.

Anything else is `unexplained`, and the check fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hspc_pipelines.mapping import DealBundle, MappingConfig
from hspc_pipelines.mapping.build import build_body
from hspc_pipelines.mapping.stages import to_hubspot
from hspc_pipelines.mapping.values import dig, string_member
from hspc_pipelines.mapping.vocabulary import EDITABLE_REVIEW_STATUSES, LOCKED_REVIEW_STATUSES
from hspc_pipelines.partner_central.records import StoredRecord, record_id
from hspc_pipelines.reconcile.merge import (
    DEAL_FIELDS,
    MERGED_FIELDS,
    Base,
    hubspot_values,
    partner_central_values,
    representable_writes,
)
from hspc_pipelines.reconcile.plan import DealSnapshot

WAITING_FOR_REVIEW: Final = "waiting for review"
TITLE_FROZEN: Final = "title frozen"
CONFLICT_PENDING: Final = "conflict pending"
INVALID_IN_HUBSPOT: Final = "invalid in HubSpot"
NOT_REPRESENTABLE: Final = "not representable in HubSpot"
UNEXPLAINED: Final = "unexplained"
REASONS: Final = (
    WAITING_FOR_REVIEW,
    TITLE_FROZEN,
    CONFLICT_PENDING,
    INVALID_IN_HUBSPOT,
    NOT_REPRESENTABLE,
    UNEXPLAINED,
)
_EXAMPLES = 20


@dataclass
class AgreementReport:
    """`counts[field][reason]`: pairs that disagree on the field; `unexplained`: (deal id,
    opportunity id, field) for the first disagreements no reason covers."""

    pairs: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    unexplained: list[tuple[str, str, str]] = field(default_factory=list)
    unexplained_total: int = 0

    @property
    def passed(self) -> bool:
        return self.unexplained_total == 0

    def add(self, deal_id: str, opportunity_id: str, name: str, reason: str) -> None:
        per_field = self.counts.setdefault(name, {})
        per_field[reason] = per_field.get(reason, 0) + 1
        if reason == UNEXPLAINED:
            self.unexplained_total += 1
            if len(self.unexplained) < _EXAMPLES:
                self.unexplained.append((deal_id, opportunity_id, name))

    def table(self) -> str:
        """A markdown table: one line per field, one column per reason (0 where none)."""
        head = "| field | agree | " + " | ".join(REASONS) + " |"
        rule = "|" + " --- |" * (len(REASONS) + 2)
        lines = [head, rule]
        for name in MERGED_FIELDS:
            counts = self.counts.get(name, {})
            agree = self.pairs - sum(counts.values())
            lines.append(f"| {name} | {agree} | " + " | ".join(str(counts.get(r, 0)) for r in REASONS) + " |")
        return "\n".join(lines)

    def summary(self) -> str:
        parts = [
            f"{name}: " + ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))
            for name, counts in self.counts.items()
        ]
        return f"{self.pairs} linked pairs; " + ("; ".join(parts) if parts else "every mapped field agrees")


def _reason(
    name: str,
    hs: Mapping[str, Any],
    pc: Mapping[str, Any],
    base: Base | None,
    opportunity: Mapping[str, Any],
    bundle: DealBundle,
    config: MappingConfig,
) -> str:
    pipeline = bundle.deal.get("pipeline")
    review = string_member(dig(opportunity, "LifeCycle", "ReviewStatus"))
    if name not in hs:
        return INVALID_IN_HUBSPOT
    if review in LOCKED_REVIEW_STATUSES:
        return WAITING_FOR_REVIEW
    if name == "title" and review not in EDITABLE_REVIEW_STATUSES:
        return TITLE_FROZEN
    known = None if base is None else base.get(name)
    if known is not None and list(hs[name]) != list(known) and list(pc[name]) != list(known):
        return CONFLICT_PENDING
    if name == "stage" and to_hubspot(dig(opportunity, "LifeCycle", "Stage"), pipeline, config) is None:
        return NOT_REPRESENTABLE
    if name not in DEAL_FIELDS and representable_writes(name, bundle, opportunity, config) is None:
        return NOT_REPRESENTABLE
    return UNEXPLAINED


def agreement(
    snapshots: Sequence[DealSnapshot],
    opportunities: Iterable[Mapping[str, Any]],
    config: MappingConfig,
    bases: Mapping[str, Base] | None = None,
) -> AgreementReport:
    """Compare every linked, not archived deal of `snapshots` with its opportunity, field by field."""
    by_id = {record_id(o): o for o in opportunities}
    report = AgreementReport()
    for snap in snapshots:
        linked = snap.bundle.deal.get("aws_opportunity_id")
        opp = by_id.get(str(linked)) if linked else None
        if snap.archived or opp is None:
            continue
        opp = opp.decode() if isinstance(opp, StoredRecord) else opp
        report.pairs += 1
        hs = hubspot_values(build_body(snap.bundle, config))
        pc = partner_central_values(opp)
        base = (bases or {}).get(snap.bundle.deal_id)
        for name in MERGED_FIELDS:
            if name in hs and hs[name] == pc[name]:
                continue
            reason = _reason(name, hs, pc, base, opp, snap.bundle, config)
            report.add(snap.bundle.deal_id, str(opp.get("Id")), name, reason)
    return report
