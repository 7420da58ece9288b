"""What a scoped sync (`sync_deals`, `hspc sync`) is asked for: deal and opportunity ids, checked
before any call so a typo is one clear error instead of an empty run. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hspc_pipelines.mapping.vocabulary import OPPORTUNITY_ID

DEAL_ID_MAX = 24  # HubSpot ids are integers; the webhook parser accepts the same digit strings


class ScopeError(ValueError):
    """A scope id that cannot be one: names the field, the value and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field}: {value!r} is not allowed; expected {allowed}")


@dataclass(frozen=True)
class Scope:
    deal_ids: tuple[str, ...]
    opportunity_ids: tuple[str, ...]

    def ids(self) -> list[str]:
        return [*self.deal_ids, *self.opportunity_ids]


def _deal_id(value: object) -> str:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not (text.isascii() and text.isdigit() and len(text) <= DEAL_ID_MAX):
        raise ScopeError("deal_ids", value, f"a HubSpot deal id: 1 to {DEAL_ID_MAX} digits, e.g. 7001")
    return text


def _opportunity_id(value: object) -> str:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not OPPORTUNITY_ID.fullmatch(text):
        raise ScopeError(
            "opportunity_ids",
            value,
            "a Partner Central opportunity id: 'O' and 1 to 19 digits, e.g. O1234567",
        )
    return text


def parse_scope(deal_ids: Iterable[object], opportunity_ids: Iterable[object]) -> Scope:
    """The ids, stripped and without repeats (first order kept); at least one id in all."""
    scope = Scope(
        tuple(dict.fromkeys(_deal_id(v) for v in deal_ids)),
        tuple(dict.fromkeys(_opportunity_id(v) for v in opportunity_ids)),
    )
    if not scope.ids():
        # An empty scope would be an empty run, never the whole window: that is `reconcile`'s job.
        raise ScopeError("deal_ids", [], "at least one deal id or opportunity id")
    return scope
