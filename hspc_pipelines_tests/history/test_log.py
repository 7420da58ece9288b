"""The sync history log: append, read, retention, secrets, and the statements an append costs."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hspc_pipelines.history import (
    SCHEMA_VERSION,
    FieldChange,
    HistorySchemaError,
    SyncHistory,
    changes_between,
)
from hspc_pipelines.history.schema import HISTORY, META, METADATA
from hspc_pipelines_tests.support.history import NOW, entry
from hspc_pipelines_tests.support.postgres import admin_connection, temporary_database


@contextmanager
def counted_statements(history: SyncHistory) -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs (one per cursor execute)."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    sa.event.listen(history.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(history.engine, "before_cursor_execute", count)


def test_round_trip_keeps_every_field(history: SyncHistory) -> None:
    written = entry(
        run_id="run-1",
        job_name="sync_deals",
        window=None,
        scope=("1001", "O1234567890"),
        opportunity_id="O1234567890",
        operation="create",
        status="failed",
        review_status="Submitted",
        reason_code="ValidationException",
        message="Customer.Account.Address.CountryCode: 'XX' is not a country",
        changes=[FieldChange("dealname", "Acme", "Acme EU"), FieldChange("amount", 100, 250.5)],
        actor="token:ops-7",
    )
    assert history.append([written]) == 1
    [read] = history.run_rows("run-1")
    assert read.recorded_at == NOW and read.recorded_at.tzinfo is not None
    assert (read.run_id, read.job_name, read.window, read.scope) == (
        "run-1",
        "sync_deals",
        None,
        ("1001", "O1234567890"),
    )
    assert (read.deal_id, read.opportunity_id, read.operation, read.status) == (
        "1001",
        "O1234567890",
        "create",
        "failed",
    )
    assert (read.review_status, read.reason_code, read.actor) == (
        "Submitted",
        "ValidationException",
        "token:ops-7",
    )
    assert read.message == written.message
    assert read.changes == (FieldChange("dealname", "Acme", "Acme EU"), FieldChange("amount", 100, 250.5))
    assert read.failed


def test_recorded_at_defaults_to_now_in_utc(history: SyncHistory) -> None:
    before = dt.datetime.now(dt.UTC)
    history.append([entry(recorded_at=None)])
    [read] = history.timeline("1001")
    assert before <= read.recorded_at <= dt.datetime.now(dt.UTC)


def test_other_time_zones_are_stored_as_the_same_instant(history: SyncHistory) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    history.append([entry(recorded_at=dt.datetime(2026, 12, 5, 13, 0, tzinfo=paris))])
    assert history.timeline("1001")[0].recorded_at == NOW


def test_a_naive_timestamp_is_refused(history: SyncHistory) -> None:
    with pytest.raises(sa.exc.StatementError, match="has no time zone"):
        history.append([entry(recorded_at=dt.datetime(2026, 12, 5, 12, 0))])
    assert history.timeline("1001") == []


def test_timeline_is_newest_first_and_limited(history: SyncHistory) -> None:
    stamps = [NOW - dt.timedelta(hours=h) for h in (5, 1, 3, 2, 4)]
    history.append([entry(recorded_at=t, message=str(i)) for i, t in enumerate(stamps)])
    history.append([entry(deal_id="2002", recorded_at=NOW + dt.timedelta(hours=1))])
    timeline = history.timeline("1001")
    assert [r.recorded_at for r in timeline] == sorted(stamps, reverse=True)
    assert {r.deal_id for r in timeline} == {"1001"}
    assert [r.recorded_at for r in history.timeline("1001", limit=2)] == sorted(stamps, reverse=True)[:2]


def test_rows_at_the_same_instant_read_newest_appended_first(history: SyncHistory) -> None:
    history.append([entry(message="first"), entry(message="second")])
    history.append([entry(message="third")])
    assert [r.message for r in history.timeline("1001")] == ["third", "second", "first"]


def test_a_later_run_never_overwrites_an_earlier_one(history: SyncHistory) -> None:
    history.append([entry(run_id="run-1", status="failed", reason_code="ThrottlingException")])
    history.append([entry(run_id="run-2", status="updated")])
    # Same deal, same window, same instant: both rows stay.
    assert [(r.run_id, r.status) for r in history.timeline("1001")] == [
        ("run-2", "updated"),
        ("run-1", "failed"),
    ]
    assert len(history.run_rows("run-1")) == len(history.run_rows("run-2")) == 1


def test_run_rows_in_append_order(history: SyncHistory) -> None:
    history.append([entry(run_id="run-1", deal_id=d) for d in ("3", "1", "2")])
    history.append([entry(run_id="run-2", deal_id="9")])
    assert [r.deal_id for r in history.run_rows("run-1")] == ["3", "1", "2"]
    assert history.run_rows("missing") == []


def test_failures_between_dates_with_reasons(history: SyncHistory) -> None:
    day = dt.timedelta(days=1)
    history.append(
        [
            entry(deal_id="1", status="failed", reason_code="ValidationException", recorded_at=NOW - 3 * day),
            entry(deal_id="2", status="invalid", reason_code="MISSING_FIELD", recorded_at=NOW - day),
            entry(deal_id="3", status="updated", recorded_at=NOW - day),
            entry(deal_id="4", status="blocked", recorded_at=NOW - day),
            entry(deal_id="5", status="failed", recorded_at=NOW - 10 * day),
            entry(deal_id="6", status="failed", recorded_at=NOW),
        ]
    )
    since = NOW - 7 * day
    assert [(r.deal_id, r.reason_code) for r in history.failures(since, until=NOW)] == [
        ("2", "MISSING_FIELD"),
        ("1", "ValidationException"),
    ]
    assert [r.deal_id for r in history.failures(since)] == ["6", "2", "1"]
    assert [r.deal_id for r in history.failures(since, statuses=("blocked",))] == ["4"]
    assert [r.deal_id for r in history.failures(since, limit=1)] == ["6"]


def test_secret_fields_keep_their_name_and_never_their_values(database_url: str) -> None:
    log = SyncHistory.from_url(database_url, secret_fields={"partner_note"})
    try:
        log.append(
            [
                entry(
                    changes=[
                        FieldChange("dealname", "Acme", "Acme EU"),
                        FieldChange("customer_ssn", "old-s3cr3t-1", "new-s3cr3t-1", secret=True),
                        FieldChange("partner_note", "old-s3cr3t-2", "new-s3cr3t-2"),
                        FieldChange("hubspot_api_key", "old-s3cr3t-3", "new-s3cr3t-3"),
                    ]
                )
            ]
        )
        with log.engine.connect() as conn:
            stored = conn.execute(sa.select(HISTORY.c.changes)).scalar_one()
        assert "s3cr3t" not in stored
        assert json.loads(stored) == [
            {"field": "dealname", "old": "Acme", "new": "Acme EU"},
            {"field": "customer_ssn", "secret": True},
            {"field": "partner_note", "secret": True},
            {"field": "hubspot_api_key", "secret": True},
        ]
        [read] = log.timeline("1001")
        assert [(c.name, c.secret, c.old, c.new) for c in read.changes] == [
            ("dealname", False, "Acme", "Acme EU"),
            ("customer_ssn", True, None, None),
            ("partner_note", True, None, None),
            ("hubspot_api_key", True, None, None),
        ]
    finally:
        METADATA.drop_all(log.engine)
        log.dispose()


def test_changes_between_lists_changed_fields_only() -> None:
    before = {"dealname": "Acme", "amount": "100", "closedate": None, "access_token": "a"}
    after = {"dealname": "Acme", "amount": "250", "closedate": "2026-12-31", "access_token": "b", "x": None}
    assert changes_between(before, after, secret={"closedate"}) == [
        FieldChange("access_token", "a", "b", secret=True),
        FieldChange("amount", "100", "250"),
        FieldChange("closedate", None, "2026-12-31", secret=True),
    ]


def test_purge_boundary_is_exact(history: SyncHistory) -> None:
    cutoff = NOW - dt.timedelta(days=400)
    tick = dt.timedelta(microseconds=1)
    history.append(
        [
            entry(message="older", recorded_at=cutoff - tick),
            entry(message="at cutoff", recorded_at=cutoff),
            entry(message="newer", recorded_at=cutoff + tick),
        ]
    )
    assert history.purge_expired(400, now=NOW) == 1
    assert [r.message for r in history.timeline("1001")] == ["newer", "at cutoff"]
    assert history.purge(cutoff) == 0


def test_purge_deletes_in_bounded_batches(history: SyncHistory) -> None:
    history.append([entry(recorded_at=NOW - dt.timedelta(days=500, seconds=i)) for i in range(10)])
    history.append([entry(message="kept")])
    with counted_statements(history) as statements:
        assert history.purge(NOW - dt.timedelta(days=400), batch_size=3) == 10
    deletes = [s for s in statements if s.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 4  # 3 + 3 + 3 + 1
    assert [r.message for r in history.timeline("1001")] == ["kept"]


def test_purge_with_nothing_due_is_one_statement(history: SyncHistory) -> None:
    history.append([entry()])
    with counted_statements(history) as statements:
        assert history.purge_expired(now=NOW) == 0
    assert len(statements) == 1


def test_bad_retention_and_batch_size_are_refused(history: SyncHistory) -> None:
    with pytest.raises(ValueError, match="retention_days 0 must be"):
        history.purge_expired(0)
    with pytest.raises(ValueError, match="batch_size 0 must be"):
        history.purge(NOW, batch_size=0)


def test_ten_thousand_rows_in_a_handful_of_statements(history: SyncHistory) -> None:
    rows = [
        entry(deal_id=str(i), opportunity_id=f"O{i:010d}", changes=[FieldChange("amount", i, i + 1)])
        for i in range(10_000)
    ]
    with counted_statements(history) as statements:
        assert history.append(rows) == 10_000
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert 1 <= len(inserts) <= 5, len(inserts)
    assert len(statements) <= 5
    assert len(history.run_rows("run-a")) == 10_000


def test_appending_nothing_sends_nothing(history: SyncHistory) -> None:
    with counted_statements(history) as statements:
        assert history.append([]) == 0
    assert statements == []


def test_schema_version_is_recorded_once(database_url: str, history: SyncHistory) -> None:
    assert history.schema_version() == SCHEMA_VERSION
    again = SyncHistory.from_url(database_url)  # a second process opening the same database
    try:
        with again.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(META)).scalar_one() == 1
    finally:
        again.dispose()


def test_who_asked_and_when_round_trip(history: SyncHistory) -> None:
    asked = NOW - dt.timedelta(minutes=3)
    history.append(
        [entry(run_id="run-s", operation="submit", actor="api-token:crm-button", requested_at=asked)]
    )
    [read] = history.run_rows("run-s")
    assert (read.actor, read.requested_at) == ("api-token:crm-button", asked)
    assert read.requested_at is not None and read.requested_at.tzinfo is not None


def test_a_version_1_table_is_migrated_and_keeps_its_rows(database_url: str, history: SyncHistory) -> None:
    """A database written by the previous hspc: no requested_at column, schema_version 1."""
    history.append([entry(run_id="run-old", actor="api-token:ops")])
    with history.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE hspc_sync_history DROP COLUMN requested_at"))
        conn.execute(META.update().values(value="1"))
    upgraded = SyncHistory.from_url(database_url)
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION == 2
        [old] = upgraded.run_rows("run-old")
        assert (old.actor, old.requested_at) == ("api-token:ops", None)
        upgraded.append([entry(run_id="run-new", actor="hubspot-user:7", requested_at=NOW)])
        [new] = upgraded.run_rows("run-new")
        assert (new.actor, new.requested_at) == ("hubspot-user:7", NOW)
        again = SyncHistory.from_url(database_url)  # a second opening migrates nothing more
        again.dispose()
    finally:
        upgraded.dispose()


def test_a_newer_schema_is_refused(database_url: str, history: SyncHistory) -> None:
    with history.engine.begin() as conn:
        conn.execute(META.update().values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(HistorySchemaError, match=f"schema_version is {SCHEMA_VERSION + 1}, newer"):
        SyncHistory.from_url(database_url)


_OFFSETS = st.lists(st.integers(min_value=-10_000, max_value=10_000), min_size=0, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offsets=_OFFSETS, cutoff_offset=st.integers(min_value=-10_000, max_value=10_000), batch=st.integers(1, 7)
)
def test_purge_deletes_exactly_the_rows_older_than_the_cutoff(
    history: SyncHistory, offsets: list[int], cutoff_offset: int, batch: int
) -> None:
    with history.engine.begin() as conn:
        conn.execute(HISTORY.delete())  # one example's rows must not leak into the next
    seconds = dt.timedelta(seconds=1)
    history.append([entry(message=str(o), recorded_at=NOW + o * seconds) for o in offsets])
    cutoff = NOW + cutoff_offset * seconds
    assert history.purge(cutoff, batch_size=batch) == sum(o < cutoff_offset for o in offsets)
    kept = sorted(int(r.message or "") for r in history.run_rows("run-a"))
    assert kept == sorted(o for o in offsets if o >= cutoff_offset)


def open_together(url: str, processes: int) -> list[BaseException]:
    """Open the history from `processes` threads released at the same instant; their errors."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(processes)

    def open_history() -> None:
        barrier.wait()
        try:
            SyncHistory.from_url(url).dispose()
        except BaseException as exc:  # reported by the test, with the trial
            errors.append(exc)

    threads = [threading.Thread(target=open_history) for _ in range(processes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_runs_starting_together_on_a_fresh_database_all_open_it(dialect: str, tmp_path: Path) -> None:
    """Six first uses at once (runs launched together on a new database) create the tables once."""
    for trial in range(3):
        with fresh_database(dialect, tmp_path / str(trial)) as url:
            errors = open_together(url, 6)
            assert errors == [], f"trial {trial}: {errors[0]!r}"
            history = SyncHistory.from_url(url)
            with history.engine.connect() as conn:
                assert conn.execute(sa.select(sa.func.count()).select_from(META)).scalar_one() == 1
            history.dispose()


@contextmanager
def fresh_database(dialect: str, folder: Path) -> Iterator[str]:
    if dialect == "sqlite":
        folder.mkdir()
        yield f"sqlite:///{folder / 'state.sqlite'}"
        return
    import psycopg2

    try:
        admin = admin_connection()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    with temporary_database(admin, "hspc_history_race") as env:
        yield f"postgresql+psycopg2://{env['DAGSTER_PG_USER']}@{env['DAGSTER_PG_HOST']}:{env['DAGSTER_PG_PORT']}/{env['DAGSTER_PG_DB']}"


def test_over_long_values_are_refused_on_both_databases(history: SyncHistory) -> None:
    with pytest.raises(ValueError, match=r"history deal_id '9{33}' has 33 characters; at most 32"):
        history.append([entry(deal_id="9" * 33)])
    with pytest.raises(
        ValueError, match=r"history reason_code 'E{80}'\.\.\. has 200 characters; at most 128"
    ):
        history.append([entry(), entry(reason_code="E" * 200)])
    with pytest.raises(TypeError, match="scope '1001' must be a list of ids"):
        history.append([entry(scope="1001")])
    assert history.timeline("1001") == []  # nothing of a refused batch is written
