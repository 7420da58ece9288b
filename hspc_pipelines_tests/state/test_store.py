import threading

import pytest

from hspc_pipelines.state.store import SyncStateStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    else:
        psycopg2 = pytest.importorskip("psycopg2")
        try:
            psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test").close()
        except psycopg2.OperationalError as exc:
            if __import__("os").environ.get("CI"):
                raise
            pytest.skip(f"PostgreSQL not reachable here: {exc}")
        s = SyncStateStore("postgresql+psycopg2://postgres@127.0.0.1:5432/test")
        with s._engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM hspc_opportunity_cache")
            conn.exec_driver_sql("DELETE FROM hspc_invitation_state")
            conn.exec_driver_sql("DELETE FROM hspc_settled_pairs")
            conn.exec_driver_sql("DELETE FROM hspc_pair_bases")
            conn.exec_driver_sql("DELETE FROM hspc_store_meta")
    yield s
    s.dispose()


def _rec(opp_id, stamp, ident=None):
    return {
        "Id": opp_id,
        "LastModifiedDate": stamp,
        "PartnerOpportunityIdentifier": ident,
        "Project": {"Title": f"t-{opp_id}-{stamp}"},
    }


def test_put_then_get_round_trips_records_and_replaces_older_ones(store):
    store.put_opportunities("AWS", [_rec("O1", "2026-11-01T00:00:00+00:00", "HUBSPOT-1"), _rec("O2", "x")])
    store.put_opportunities("AWS", [_rec("O1", "2026-11-02T00:00:00+00:00", "HUBSPOT-1")])
    got = store.get_opportunities("AWS", ["O1", "O2", "O3"])
    assert set(got) == {"O1", "O2"}
    assert got["O1"][0] == "2026-11-02T00:00:00+00:00"
    assert got["O1"][1]["Project"]["Title"] == "t-O1-2026-11-02T00:00:00+00:00"
    assert store.count_opportunities("AWS") == 2


def test_catalogs_are_kept_apart(store):
    store.put_opportunities("Sandbox", [_rec("O1", "s", "HUBSPOT-9")])
    assert store.get_opportunities("AWS", ["O1"]) == {}
    assert store.find_by_partner_identifiers("AWS", ["HUBSPOT-9"]) == {}
    assert store.find_by_partner_identifiers("Sandbox", ["HUBSPOT-9", "HUBSPOT-8"]) == {"HUBSPOT-9": "O1"}


def test_many_ids_are_looked_up_in_chunks(store):
    store.put_opportunities("AWS", [_rec(f"O{i}", "s", f"HUBSPOT-{i}") for i in range(1200)])
    assert len(store.get_opportunities("AWS", [f"O{i}" for i in range(1300)])) == 1200
    assert len(store.find_by_partner_identifiers("AWS", [f"HUBSPOT-{i}" for i in range(1300)])) == 1200


def test_invitation_state_is_upserted(store):
    assert store.get_invitation("AWS", "engi-1") is None
    store.put_invitation("AWS", "engi-1", status="accepting", task_id="t1")
    store.put_invitation("AWS", "engi-1", status="accepted", opportunity_id="O5")
    row = store.get_invitation("AWS", "engi-1")
    assert (row["status"], row["task_id"], row["opportunity_id"]) == ("accepted", "t1", "O5")


def test_concurrent_writers_do_not_lose_records(store):
    def write(n):
        store.put_opportunities("AWS", [_rec(f"W{n}-{i}", "s") for i in range(50)])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_opportunities("AWS") == 200


def test_duplicate_partner_identifiers_are_reported(store):
    store.put_opportunities(
        "AWS",
        [
            _rec("O1", "s", "HUBSPOT-1"),
            _rec("O2", "s", "HUBSPOT-1"),
            _rec("O3", "s", "HUBSPOT-3"),
            _rec("O4", "s", None),
            _rec("O5", "s", None),
        ],
    )
    assert store.duplicate_partner_identifiers("AWS") == {"HUBSPOT-1": ["O1", "O2"]}
    assert store.duplicate_partner_identifiers("Sandbox") == {}


def test_settled_pairs_round_trip_replace_and_stay_per_catalog(store):
    assert store.put_settled("AWS", {}) == 0
    assert store.put_settled("AWS", {"1": ("a" * 40, ["w1"]), "2": ("b" * 40, [])}) == 2
    assert store.put_settled("Sandbox", {"1": ("c" * 40, [])}) == 1
    assert store.put_settled("AWS", {"1": ("d" * 40, [])}) == 1
    assert store.get_settled("AWS", ["1", "2", "3", "1"]) == {"1": ("d" * 40, []), "2": ("b" * 40, [])}
    assert store.get_settled("Sandbox", ["1", "2"]) == {"1": ("c" * 40, [])}


def test_settled_pairs_are_read_and_written_in_chunks(store):
    pairs = {str(i): (f"{i:040d}", ["title_frozen: x"] if i % 2 else []) for i in range(5203)}
    assert store.put_settled("AWS", pairs) == 5203
    got = store.get_settled("AWS", list(pairs) + ["missing"])
    assert got == {d: (fp, list(w)) for d, (fp, w) in pairs.items()}


def test_two_writers_of_the_same_keys_both_succeed(store):
    """An event run and the sweep may plan (and put) the same pairs at once; neither may fail."""
    errors = []

    def writer(tag):
        try:
            for round_ in range(15):
                store.put_settled("AWS", {str(i): (f"{tag}{round_}", []) for i in range(60)})
                store.put_opportunities("AWS", [_rec(f"O{i}", f"{tag}-{round_}") for i in range(20)])
        except Exception as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {fp for fp, _ in store.get_settled("AWS", [str(i) for i in range(60)]).values()} <= {"a14", "b14"}
    assert store.count_opportunities("AWS") == 20


def test_a_key_given_twice_in_one_call_keeps_the_last(store):
    store.put_settled("AWS", {"1": ("x", [])})
    store.put_opportunities("AWS", [_rec("O1", "first"), _rec("O1", "second")])
    assert store.get_opportunities("AWS", ["O1"])["O1"][0] == "second"


def test_pair_bases_round_trip_replace_and_stay_per_catalog(store):
    """The merge's bases (issue 15) survive a new store object and are kept per catalog."""
    base = {"stage": ["Qualified"], "spend": [["25000|USD|Monthly|AWS"]], "title": [None]}
    assert store.put_bases("AWS", {"7": ("O1", base)}) == 1
    assert store.put_bases("Sandbox", {"7": ("O9", {"stage": ["Prospect"]})}) == 1
    again = SyncStateStore(store.url)  # another worker, or after a restart
    assert again.get_bases("AWS", ["7", "8"]) == {"7": ("O1", base)}
    again.dispose()
    store.put_bases("AWS", {"7": ("O2", {"stage": ["Committed"]})})
    assert store.get_bases("AWS", ["7"]) == {"7": ("O2", {"stage": ["Committed"]})}
    assert store.get_bases("Sandbox", ["7"]) == {"7": ("O9", {"stage": ["Prospect"]})}
    assert store.put_bases("AWS", {}) == 0


def test_the_store_remembers_the_day_it_was_created(store):
    first = store.created_on("2026-03-02")
    assert SyncStateStore(store.url).created_on("2027-01-01") == first, "later calls never move it"


def test_opportunities_from_accepted_invitations_are_known(store):
    store.put_invitation("AWS", "engi-1", status="deal_created", opportunity_id="O7")
    assert store.invitation_opportunities("AWS", ["O7", "O8"]) == {"O7"}
    assert store.invitation_opportunities("Sandbox", ["O7"]) == set()
