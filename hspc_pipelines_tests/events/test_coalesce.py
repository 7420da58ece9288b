from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hspc_pipelines.events.coalesce import (
    INVITATIONS,
    RECONCILE,
    SCOPE_OP,
    SUBMIT,
    SYNC_DEALS,
    Trigger,
    coalesce,
    run_key,
)


def _t(event_id: str, kind: str = RECONCILE, **kw: Any) -> Trigger:
    return Trigger(kind=kind, event_id=event_id, message_id=f"m-{event_id}", **kw)


def test_deal_and_opportunity_changes_become_one_sync_deals_run_not_a_reconcile_partition():
    intents = coalesce(
        [
            _t("e1", deal_id="11"),
            _t("e2", deal_id="12"),
            _t("e3", opportunity_id="O1"),
            _t("e4", deal_id="11"),
        ]
    )
    assert len(intents) == 1
    intent = intents[0]
    assert intent.job == SYNC_DEALS
    assert intent.run_config == {
        "ops": {SCOPE_OP: {"config": {"deal_ids": ["11", "12"], "opportunity_ids": ["O1"]}}}
    }
    assert intent.message_ids == {"m-e1", "m-e2", "m-e3", "m-e4"}
    assert intent.run_key == run_key(SYNC_DEALS, ["e1", "e2", "e3", "e4"])


def test_redelivered_event_in_the_same_tick_starts_one_run_and_its_message_is_still_deleted():
    first = _t("e1", deal_id="11")
    again = Trigger(kind=RECONCILE, event_id="e1", message_id="m-redelivery", deal_id="11")
    intents = coalesce([first, again, again])
    runs = [i for i in intents if i.job]
    assert len(runs) == 1 and runs[0].event_ids == ["e1"]
    leftovers = [i for i in intents if not i.job]
    assert leftovers and leftovers[0].message_ids == {"m-redelivery"}


def test_events_seen_in_earlier_ticks_start_nothing():
    intents = coalesce([_t("e1", deal_id="11")], already_seen={"e1"})
    assert [i.job for i in intents] == [""]


def test_invitations_and_submissions_get_their_own_runs():
    intents = coalesce(
        [
            _t("i1", INVITATIONS, invitation_id="engi-aaaaaaaaaaaaa"),
            _t("s1", SUBMIT, deal_id="5", involvement_type="For Visibility Only", visibility="Limited"),
            _t("s2", SUBMIT, deal_id="6"),
        ]
    )
    jobs = sorted(i.job for i in intents)
    assert jobs == [SUBMIT, SUBMIT, INVITATIONS]
    invitation = next(i for i in intents if i.job == INVITATIONS)
    assert invitation.run_config["ops"]["pending_invitations"]["config"]["invitation_ids"] == [
        "engi-aaaaaaaaaaaaa"
    ]
    submit5 = next(i for i in intents if i.tags.get("hspc/deal_id") == "5")
    assert submit5.run_config["ops"]["submission"]["config"] == {
        "deal_id": "5",
        "involvement_type": "For Visibility Only",
        "visibility": "Limited",
    }
    submit6 = next(i for i in intents if i.tags.get("hspc/deal_id") == "6")
    # asked for on the deal: no choice in the run, the deal's own (else the defaults) applies
    assert submit6.run_config["ops"]["submission"]["config"]["involvement_type"] == ""


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["1", "2", "3"])), max_size=30)
)
def test_run_key_depends_only_on_the_set_of_events(pairs):
    """Any order or repetition of the same events gives the same run key, so redelivery starts nothing."""
    triggers = [_t(e, deal_id=d) for e, d in pairs]
    forward = [i for i in coalesce(triggers) if i.job]
    backward = [i for i in coalesce(list(reversed(triggers))) if i.job]
    assert [i.run_key for i in forward] == [i.run_key for i in backward]
    covered = {m for i in coalesce(triggers) for m in i.message_ids}
    assert covered == {t.message_id for t in triggers}
