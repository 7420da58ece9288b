"""The webhooks journal's pure rules: an entry's file -> events -> triggers -> the events path's runs,
the sensor's cursor and the sweep window of an expired cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.events.coalesce import SUBMIT, SYNC_DEALS, coalesce
from hspc_pipelines.events.journal import (
    START_EARLIEST,
    JournalCursor,
    JournalFormatError,
    parse_entry,
    sweep_range,
    triggers_for,
)

OFFSET = "3c90c3cc-0d44-4b50-8888-8dd25736052a"


def _file(*events: dict) -> dict:
    return {"offset": OFFSET, "publishedAt": "2026-12-06T10:00:00.000Z", "journalEvents": list(events)}


def _deal_event(deal_id: int, action: str = "UPDATE", **extra: object) -> dict:
    return {"action": action, "objectTypeId": "0-3", "objectId": deal_id, "portalId": 62515, **extra}


def test_deal_events_become_one_sync_deals_run_for_every_deal_they_touch():
    events = parse_entry(
        OFFSET,
        _file(
            _deal_event(11, "CREATE", propertyChanges={"dealname": "A #AWS"}),
            _deal_event(12, propertyChanges={"amount": "5"}),
            _deal_event(11, "DELETE"),
            {"action": "ASSOCIATION_ADDED", "objectTypeId": "0-2", "objectId": 900,
             "associatedObjectTypeId": "0-3", "associatedObjectId": 13},
            {"action": "UPDATE", "objectTypeId": "0-1", "objectId": 800},  # a contact: no deal
            _deal_event(14, "MERGE", mergedObjectIds=[15]),
        ),
    )  # fmt: skip
    intents = [i for i in coalesce(triggers_for(events)) if i.job]
    assert [i.job for i in intents] == [SYNC_DEALS]
    scope = intents[0].run_config["ops"]["scoped_snapshot"]["config"]
    assert scope == {"deal_ids": ["11", "12", "13", "14", "15"], "opportunity_ids": []}


def test_a_submit_request_set_on_the_deal_asks_for_its_submission():
    events = parse_entry(OFFSET, _file(_deal_event(21, propertyChanges={"aws_submit_requested": "true"})))
    triggers = triggers_for(events)
    assert sorted(t.kind for t in triggers) == ["reconcile", SUBMIT]
    submit = next(i for i in coalesce(triggers) if i.job == "submit_opportunity")
    assert submit.run_config["ops"]["submission"]["config"]["deal_id"] == "21"


def test_events_of_another_account_are_not_ours():
    events = parse_entry(OFFSET, _file(_deal_event(31), _deal_event(32, portalId=99)))
    assert {t.deal_id for t in triggers_for(events, portal_id="62515")} == {"31"}
    assert {t.deal_id for t in triggers_for(events)} == {"31", "32"}


@pytest.mark.parametrize(
    ("data", "where", "expected"),
    [
        ([], "(file)", "a JSON object with journalEvents"),
        ({"journalEvents": {}}, "journalEvents", "a list of events"),
        (_file(_deal_event(1) | {"objectId": "12a"}), "journalEvents[0].objectId", "an integer id"),
        (
            _file({"objectTypeId": "0-3", "objectId": 1}),
            "journalEvents[0].action",
            "one of ASSOCIATION_ADDED",
        ),
        (
            _file(_deal_event(1, mergedObjectIds=[True])),
            "journalEvents[0].mergedObjectIds[0]",
            "an integer id",
        ),
        ("{not json", "(file)", "a JSON object"),
    ],
)
def test_a_bad_file_is_refused_naming_the_entry_the_field_the_value_and_what_is_allowed(
    data, where, expected
):
    with pytest.raises(JournalFormatError) as caught:
        parse_entry(OFFSET, data)
    message = str(caught.value)
    assert message.startswith(f"journal entry {OFFSET}: {where}: expected {expected}")
    assert "got " in message


deal_ids = st.integers(min_value=1, max_value=10**12)
actions = st.sampled_from(["CREATE", "UPDATE", "DELETE", "RESTORE", "ASSOCIATION_REMOVED"])
entries = st.lists(
    st.lists(st.tuples(deal_ids, actions), min_size=1, max_size=5).map(
        lambda evs: [_deal_event(d, a) for d, a in evs]
    ),
    min_size=1,
    max_size=6,
)


@given(entries, st.randoms())
def test_any_entries_sync_exactly_their_deals_under_a_key_that_reading_them_again_repeats(files, rnd):
    offsets = [f"00000000-0000-4000-8000-{i:012d}" for i in range(len(files))]
    events = [e for o, f in zip(offsets, files, strict=True) for e in parse_entry(o, _file(*f))]
    [intent] = [i for i in coalesce(triggers_for(events)) if i.job]
    expected = sorted({str(e["objectId"]) for f in files for e in f})
    assert intent.run_config["ops"]["scoped_snapshot"]["config"]["deal_ids"] == expected
    # After a crash the same entries are read again, in any order: the same run key, so one run.
    shuffled = list(events)
    rnd.shuffle(shuffled)
    [again] = [i for i in coalesce(triggers_for(shuffled)) if i.job]
    assert again.run_key == intent.run_key


@given(st.dates(), st.dates(), st.one_of(st.none(), st.datetimes(timezones=st.just(dt.UTC))))
def test_a_sweep_covers_from_the_last_entry_read_to_today_within_the_partitions(first, today, last):
    last_at = None if last is None else last.isoformat().replace("+00:00", "Z")
    start, end = sweep_range(last_at, today, first)
    assert end == today.isoformat() and start <= end
    if first <= today:
        assert start >= first.isoformat()
    if last is not None and first <= last.date() <= today:
        assert start == last.date().isoformat()
    if last is None and first <= today:
        assert start == first.isoformat(), "unknown last entry: the whole range"


def test_the_cursor_keeps_its_offset_and_where_it_starts_without_one():
    assert JournalCursor.load(None) == JournalCursor()
    cursor = JournalCursor(OFFSET, "2026-12-06T10:00:00.000Z")
    assert JournalCursor.load(cursor.dump()) == cursor
    empty_seen = JournalCursor(start=START_EARLIEST)
    assert JournalCursor.load(empty_seen.dump()).start == START_EARLIEST
    assert JournalCursor.load('{"start": "anything"}').start == "latest"
