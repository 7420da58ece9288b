"""The deal's `aws_solution_ids` as the set of solutions associated with its opportunity (pure).

The deal property is HubSpot-owned: a seller's change associates the new solutions and disassociates
the removed ones. An empty property means "not chosen yet": nothing is disassociated, and the deal
gets the opportunity's current solutions (or, on create, the matched ones) written back. A plan row
carries the wanted set in `solution_ids` and the difference in `changed_fields` under
`RelatedEntityIdentifiers.Solutions`; the apply steps make the opportunity's set equal to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hspc_pipelines.mapping.errors import FieldError
from hspc_pipelines.mapping.values import dig, string_member
from hspc_pipelines.mapping.vocabulary import LOCKED_REVIEW_STATUSES, Operation, SyncStatus

if TYPE_CHECKING:
    from hspc_pipelines.reconcile.plan import PlanRow

PROPERTY = "aws_solution_ids"
CHANGE_FIELD = "RelatedEntityIdentifiers.Solutions"
MAX_SOLUTIONS_PER_OPPORTUNITY = 10  # ACE's limit per opportunity
_SEPARATOR = re.compile(r"[;,]")  # written with ";"; "," (the earlier description) is read too


def parse_solution_ids(value: str | None) -> list[str]:
    """The ids in a property value, in order, each once."""
    return list(dict.fromkeys(part.strip() for part in _SEPARATOR.split(value or "") if part.strip()))


def format_solution_ids(ids: Iterable[str]) -> str:
    return ";".join(ids)


def opportunity_solution_ids(opportunity: Mapping[str, Any]) -> list[str]:
    related = opportunity.get("RelatedEntityIdentifiers") or {}
    return [str(s) for s in related.get("Solutions") or []]


@dataclass(frozen=True)
class SolutionChange:
    associate: tuple[str, ...]
    disassociate: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.associate or self.disassociate)


def solution_change(wanted: Sequence[str], current: Sequence[str]) -> SolutionChange:
    """What makes `current` equal to `wanted` (an empty `wanted` changes nothing)."""
    if not wanted:
        return SolutionChange((), ())
    return SolutionChange(
        tuple(s for s in wanted if s not in current), tuple(s for s in current if s not in wanted)
    )


def _invalid(row: PlanRow, errors: list[FieldError]) -> None:
    from hspc_pipelines.reconcile.plan import property_changes  # pure, and imports this module's caller

    row.operation, row.request, row.solution_ids = Operation.INVALID, None, []
    row.errors = [*row.errors, *(str(e) for e in errors)]
    row.reason = "deal fails validation: " + "; ".join(row.errors)
    row.settled = None
    wanted = {"aws_sync_status": SyncStatus.INVALID.value, "aws_sync_error": "\n".join(row.errors)}
    row.deal_updates.update(property_changes(row.deal_current, wanted))


def _too_many(wanted: Sequence[str]) -> FieldError:
    return FieldError(
        PROPERTY,
        format_solution_ids(wanted),
        f"{len(wanted)} solutions; Partner Central allows at most {MAX_SOLUTIONS_PER_OPPORTUNITY} an opportunity",
        f"at most {MAX_SOLUTIONS_PER_OPPORTUNITY} solution ids separated by ;",
    )


def plan_pair_solutions(row: PlanRow, deal: Mapping[str, str | None], opportunity: Mapping[str, Any]) -> None:
    """After the pair's fields were planned: its solutions. Rows that are invalid or only link wait
    (the next run, once linked, plans them); a change during review is blocked like any other."""
    if row.operation in (Operation.INVALID, Operation.LINK):
        return
    from hspc_pipelines.reconcile.plan import property_changes

    wanted = parse_solution_ids(deal.get(PROPERTY))
    current = opportunity_solution_ids(opportunity)
    review_status = string_member(dig(opportunity, "LifeCycle", "ReviewStatus"))
    if not wanted:
        if current:  # not chosen on the deal yet: the deal shows what the opportunity has
            updates = property_changes(deal, {PROPERTY: format_solution_ids(current)})
            if updates:
                row.deal_updates.update(updates)
                if row.operation == Operation.NONE:
                    row.operation, row.reason, row.deal_current, row.settled = (
                        Operation.WRITE_BACK,
                        f"{PROPERTY} written back from Partner Central",
                        dict(deal),
                        None,
                    )
        return
    if len(wanted) > MAX_SOLUTIONS_PER_OPPORTUNITY:
        row.deal_current = row.deal_current or dict(deal)
        _invalid(row, [_too_many(wanted)])
        return
    change = solution_change(wanted, current)
    if not change:
        return
    row.changed_fields = {**row.changed_fields, CHANGE_FIELD: (current, wanted)}
    row.settled = None
    if row.operation == Operation.BLOCKED:
        return  # waits with the pair's other changes
    if review_status in LOCKED_REVIEW_STATUSES:
        row.deal_current = row.deal_current or dict(deal)
        row.operation = Operation.BLOCKED
        row.reason = (
            f"opportunity is '{review_status}': ACE refuses changes during review; the solution "
            "change waits until it ends"
        )
        wanted_status = {"aws_sync_status": SyncStatus.BLOCKED.value, "aws_sync_error": row.reason}
        row.deal_updates.update(property_changes(row.deal_current, wanted_status))
        return
    described = ", ".join([*(f"+{s}" for s in change.associate), *(f"-{s}" for s in change.disassociate)])
    if row.operation == Operation.UPDATE:
        row.reason += f"; solutions {described}"
    else:
        # Only the solutions change: an update row without an UpdateOpportunity request.
        row.operation, row.reason = Operation.UPDATE, f"solutions changed on the deal: {described}"
        row.deal_current = row.deal_current or dict(deal)
    row.solution_ids = list(wanted)


def check_catalog(rows: Iterable[PlanRow], solutions: Sequence[Mapping[str, Any]]) -> None:
    """Rows that would associate a solution the partner's ListSolutions does not have become invalid,
    naming each id (solutions already associated are left alone)."""
    known = {str(s.get("solution_id") or s.get("Id")) for s in solutions}
    allowed = sorted(known)
    for row in rows:
        if not row.solution_ids or row.operation not in (Operation.UPDATE, Operation.CREATE):
            continue
        current: Sequence[str] = ()
        if CHANGE_FIELD in row.changed_fields:
            current = row.changed_fields[CHANGE_FIELD][0] or ()
        unknown = [s for s in row.solution_ids if s not in known and s not in current]
        if unknown:
            _invalid(
                row,
                [
                    FieldError(PROPERTY, s, "not one of the partner's solutions (ListSolutions)", allowed)
                    for s in unknown
                ],
            )


def create_solutions(
    row: PlanRow, matched: Sequence[str], max_solutions: int = MAX_SOLUTIONS_PER_OPPORTUNITY
) -> None:
    """A create row's solutions: the deal's own when set, else the matched ones, written back."""
    wanted = parse_solution_ids(row.deal_current.get(PROPERTY))
    if wanted:
        if len(wanted) > max_solutions:
            _invalid(row, [_too_many(wanted)])
            return
        row.solution_ids = wanted
        return
    row.solution_ids = list(matched)
    if matched:
        row.deal_updates[PROPERTY] = format_solution_ids(matched)
