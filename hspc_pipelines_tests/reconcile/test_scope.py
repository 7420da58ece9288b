"""The ids a scoped sync accepts (reconcile/scope.py): one clear error naming the field, the value and
what is allowed; never an empty scope."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.reconcile.scope import DEAL_ID_MAX, ScopeError, parse_scope

deal_ids = st.text("0123456789", min_size=1, max_size=DEAL_ID_MAX)
opportunity_ids = st.from_regex(r"O[0-9]{1,19}", fullmatch=True)


@given(st.lists(deal_ids, max_size=5), st.lists(opportunity_ids, max_size=5))
def test_valid_ids_are_kept_in_order_without_repeats(deals: list[str], opps: list[str]) -> None:
    if not deals and not opps:
        with pytest.raises(ScopeError, match="at least one deal id or opportunity id"):
            parse_scope(deals, opps)
        return
    scope = parse_scope([f" {d} " for d in deals + deals], opps + opps)
    assert scope.deal_ids == tuple(dict.fromkeys(deals))
    assert scope.opportunity_ids == tuple(dict.fromkeys(opps))
    assert scope.ids() == [*scope.deal_ids, *scope.opportunity_ids]


@given(st.text(max_size=30).filter(lambda s: not (s.strip().isascii() and s.strip().isdigit())))
def test_anything_but_digits_is_not_a_deal_id(value: str) -> None:
    with pytest.raises(ScopeError) as err:
        parse_scope([value], [])
    assert err.value.field == "deal_ids" and err.value.value == value
    assert repr(value) in str(err.value) and "HubSpot deal id" in str(err.value)


@pytest.mark.parametrize("value", ["7001", "o123", "O", "O12345678901234567890", "O12 34", "arn:aws:O1", 7])
def test_what_is_not_an_opportunity_id_is_named(value: object) -> None:
    with pytest.raises(ScopeError) as err:
        parse_scope(["7001"], [value])
    assert err.value.field == "opportunity_ids" and err.value.value == value
    assert "'O' and 1 to 19 digits" in str(err.value)


def test_a_deal_id_longer_than_hubspot_ids_is_refused() -> None:
    with pytest.raises(ScopeError, match="1 to 24 digits"):
        parse_scope(["1" * (DEAL_ID_MAX + 1)], [])
