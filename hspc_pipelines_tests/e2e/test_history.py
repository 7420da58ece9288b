"""The reconcile writes the sync history (issue 14): against the emulators, read back with `hspc
history` through hspc_pipelines.cli.main, as a person would."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from hspc_pipelines.cli import main
from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.history import HistoryEntry, SyncHistory
from hspc_pipelines.history.cli import state_url
from hspc_pipelines.history.schema import META
from hspc_pipelines_tests.support.product import DEAL_ID, seed_deal


def _since(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


def _hspc(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(["history", *argv]) == 0
    return capsys.readouterr().out


def _statuses(outcome) -> dict[str, str]:
    df = outcome.frames["hubspot_deal_writes"]
    return {str(r["deal_id"]): str(r["final_status"]) for r in df.to_dict("records")}


def _history_metadata(product, run_id: str) -> dict:
    records = product.instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for record in records:
        mat = record.event_log_entry.asset_materialization
        if mat is not None and mat.asset_key == dg.AssetKey("hubspot_deal_writes"):
            return {k: v.value for k, v in mat.metadata.items() if k.startswith("history")}
    raise AssertionError("hubspot_deal_writes was not materialized")


def test_created_and_invalid_rows_reach_hspc_history_and_a_no_op_run_adds_none(product, capsys):
    data = generate_seed(40, seed=3, now_ms=anchor_now())
    product.stack.hubspot.load_seed(data)
    first = product.reconcile(since=_since(130))
    assert first.success
    statuses = _statuses(first)
    created = sorted(d for d, s in statuses.items() if s == "created")
    invalid = sorted(d for d, s in statuses.items() if s == "invalid")
    assert created and invalid, statuses

    deal = created[0]
    out = _hspc(capsys, deal)
    assert f"Sync history of deal {deal}" in out
    lines = [line for line in out.splitlines()[2:] if line.strip()]
    assert len(lines) == 1 and " create " in lines[0] and " created " in lines[0], out
    opp_id = product.deal(deal, "aws_opportunity_id")["aws_opportunity_id"]
    assert opp_id and opp_id in lines[0], "the row names the opportunity it created"
    assert first.run_id in lines[0]

    failed = _hspc(capsys, "--failed")
    for deal_id in invalid:
        row = next(line for line in failed.splitlines() if f" {deal_id} " in line)
        assert " invalid " in row and "InvalidDeal: deal fails validation:" in row, row

    meta = _history_metadata(product, first.run_id)
    assert meta["history_rows_appended"] == len(statuses)
    assert "**" in meta["history"] and "| deal |" in meta["history"]

    history = SyncHistory.from_url(state_url())
    try:
        (record,) = history.timeline(deal)
        changes = {c.name: (c.old, c.new) for c in record.changes}
        assert changes["aws_opportunity_id"] == (None, opp_id), "the deal properties written, old -> new"
        assert record.window == f"{_since(130)}..{product.today}" and record.job_name == "reconcile"
        before = len(history.timeline(deal, limit=100))
        second = product.reconcile(since=_since(130))
        assert second.success
        assert len(history.timeline(deal, limit=100)) == before, "a no-op run logs nothing for the deal"
        appended = history.run_rows(second.run_id)
        # Only the invalid deals (planned `invalid` again) are logged; the converged pairs are counted.
        assert {r.status for r in appended if r.operation != "agreement"} <= {"invalid"}
        # A range run is a sweep: its proof of agreement is one entry (issue 15).
        assert [r.status for r in appended if r.operation == "agreement"] == ["agreed"]
        meta = _history_metadata(product, second.run_id)
        assert meta["history_unchanged_not_logged"] == len(created)
    finally:
        history.dispose()


def test_a_failing_history_fails_the_step_after_the_deals_are_written(product):
    """A history this hspc cannot write (a newer schema) does not stop the sync: the deal is created
    and linked, then the step fails and says why."""
    seed_deal(product)
    engine = sa.create_engine(state_url())
    META.create(engine)
    with engine.begin() as conn:
        conn.execute(META.insert().values(key="schema_version", value="99"))
    engine.dispose()

    outcome = product.reconcile()
    assert not outcome.success
    deal = product.deal(DEAL_ID, "aws_opportunity_id", "aws_sync_status")
    assert deal["aws_opportunity_id"] and deal["aws_sync_status"] == "synced"
    failures = [
        e
        for e in product.instance.all_logs(outcome.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        if e.step_key == "hubspot_deal_writes"
    ]
    assert failures
    message = failures[0].dagster_event.step_failure_data.error.message
    assert "sync history was not recorded" in message and "HistorySchemaError" in message


def test_the_retention_setting_purges_old_rows(product, monkeypatch):
    days = 1
    monkeypatch.setenv("HSPC_HISTORY_RETENTION_DAYS", str(days))
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=days + 1)
    history = SyncHistory.from_url(state_url())
    try:
        history.append(
            [HistoryEntry(run_id="old", job_name="reconcile", operation="create", status="created",
                          deal_id="1", recorded_at=old)]
        )  # fmt: skip
        seed_deal(product)
        assert product.reconcile().success
        assert history.run_rows("old") == []
        assert [r.status for r in history.timeline(DEAL_ID)] == ["created"]
    finally:
        history.dispose()
