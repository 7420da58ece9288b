"""Which Partner Central events carry nothing the state store lacks (`events/echo.py`)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.events.coalesce import INVITATIONS, RECONCILE, Trigger
from hspc_pipelines.events.echo import CREATED, UPDATED, known_events, opportunity_ids

T0 = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)


def _event(
    detail_type: str | None, at: dt.datetime | None, opp: str = "O1", kind: str = RECONCILE
) -> Trigger:
    return Trigger(
        kind, f"aws:{detail_type}:{at}", "m1", opportunity_id=opp, detail_type=detail_type, event_time=at
    )


def test_created_is_known_once_the_store_holds_the_opportunity() -> None:
    created = _event(CREATED, T0)
    assert known_events([created], {"O1": T0 - dt.timedelta(days=1)}) == {created.event_id}
    assert known_events([created], {"O2": T0}) == set(), "an opportunity the product never saw"


def test_updated_is_known_only_when_the_record_is_from_a_later_second() -> None:
    stored = {"O1": T0 + dt.timedelta(seconds=1, milliseconds=5)}
    earlier, same, later = (_event(UPDATED, T0 + dt.timedelta(seconds=s)) for s in (0, 1, 2))
    assert known_events([earlier, same, later], stored) == {earlier.event_id}
    # a record modified at .700 of the event's own second: another change may have followed in it
    assert known_events([earlier], {"O1": T0 + dt.timedelta(milliseconds=700)}) == set()


def test_other_events_are_never_dropped() -> None:
    stored = {"O1": T0 + dt.timedelta(days=1)}
    kept = [
        _event(UPDATED, None),  # no time: cannot tell
        _event("Opportunity Accepted", T0),
        _event("Opportunity Rejected", T0),
        _event(None, T0),  # a HubSpot deal event has no detail type
        _event(CREATED, T0, kind=INVITATIONS),
        Trigger(RECONCILE, "hubspot:1:7001", "m2", deal_id="7001"),
    ]
    assert known_events(kept, stored) == set()
    assert opportunity_ids(kept) == ["O1"], "only the timeless update needed a look"


seconds = st.integers(0, 10_000).map(lambda s: T0 + dt.timedelta(seconds=s))
stamps = st.tuples(seconds, st.integers(0, 999_999)).map(lambda p: p[0].replace(microsecond=p[1]))


@given(event_at=seconds, stored_at=stamps)
def test_an_update_in_or_after_the_records_second_always_starts_its_run(
    event_at: dt.datetime, stored_at: dt.datetime
) -> None:
    event = _event(UPDATED, event_at)
    known = known_events([event], {"O1": stored_at})
    assert (event.event_id in known) == (event_at < stored_at.replace(microsecond=0))
