"""A reconcile run's figures end to end: numeric metadata Dagster plots, equal to what the emulators
counted; the EMF line printed when asked; the rows alert sent to a local webhook."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.partner_central.pacing import is_write
from hspc_pipelines.settings import load_settings
from hspc_pipelines_tests.support.receiver import http_receiver

FIGURES = ("rows_created", "rows_invalid", "rows_failed", "creates", "updates", "deal_writes")


def _since(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


def _latest(product) -> dict:
    event = product.instance.get_latest_materialization_event(dg.AssetKey("hubspot_deal_writes"))
    assert event is not None and event.asset_materialization is not None
    return dict(event.asset_materialization.metadata)


def _emf_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def test_run_figures_are_plotted_and_match_what_the_services_saw(product, monkeypatch, capsys):
    product.stack.hubspot.load_seed(generate_seed(25, seed=5, now_ms=anchor_now()))
    with http_receiver() as hook:
        monkeypatch.setenv("HSPC_CLOUDWATCH_METRICS", "true")
        monkeypatch.setenv("HSPC_ALERT_WEBHOOK_URL", hook.url + "/hook/secret-part")
        monkeypatch.setenv("HSPC_ALERT_ROWS_THRESHOLD", "0")
        outcome = product.reconcile(since=_since(130))
        assert outcome.success
        meta = _latest(product)
        value: dict[str, float] = {
            k: float(v.value or 0)
            for k, v in meta.items()
            if isinstance(v, dg.IntMetadataValue | dg.FloatMetadataValue)
        }

        # numbers, so the UI plots them; every row status is there, 0 or not
        for key in (*FIGURES, "rows_total", "write_quota_share", "run_duration_seconds", "deferred_rows"):
            assert key in value, key
        assert isinstance(meta["write_quota_share"], dg.FloatMetadataValue)
        writes = outcome.frames["hubspot_deal_writes"]
        finals = writes["final_status"].value_counts().to_dict()
        assert value["rows_total"] == len(writes)
        assert value["rows_created"] == finals.get("created", 0) == value["creates"] > 0
        assert value["rows_invalid"] == finals.get("invalid", 0)
        assert value["deal_writes"] == int((writes["write_status"] == "written").sum())

        # the calls are those the services received (the clients count logical calls; no retries here)
        pc_calls = product.pc_calls()
        assert value["api_calls_hubspot"] == sum(product.hubspot_calls().values())
        assert value["api_calls_partner_central"] == sum(pc_calls.values())
        pc_writes = sum(n for op, n in pc_calls.items() if is_write(op))
        assert value["partner_central_writes"] == pc_writes >= value["creates"]
        # over the daily quota the product budgets against (the emulator stack sets it)
        assert value["write_quota_share"] == pytest.approx(pc_writes / load_settings().pc_writes_per_day)
        assert value["throttled_calls"] == 0 and value["run_duration_seconds"] > 0

        # the same figures, once, as an EMF line on stdout
        lines = _emf_lines(capsys.readouterr().out)
        assert len(lines) == 1
        assert lines[0]["FailedRows"] == value["rows_failed"]
        assert lines[0]["PartnerCentralWrites"] == pc_writes and lines[0]["Job"] == "reconcile"

        # the rows alert, with threshold 0, whenever a row ended failed or invalid
        bad = value["rows_failed"] + value["rows_invalid"]
        assert len(hook.bodies()) == (1 if bad else 0)
        if bad:
            assert f"{int(value['rows_invalid'])} invalid rows" in hook.bodies()[0]["text"]

    # a second run writes nothing to Partner Central: the plot's next point is 0
    monkeypatch.setenv("HSPC_CLOUDWATCH_METRICS", "false")
    monkeypatch.delenv("HSPC_ALERT_WEBHOOK_URL")
    assert product.reconcile(since=_since(130)).success
    again = _latest(product)
    assert again["partner_central_writes"].value == 0 and again["write_quota_share"].value == 0.0
    assert again["creates"].value == 0
    assert _emf_lines(capsys.readouterr().out) == []  # not asked: no line


def test_each_step_records_its_own_calls(product):
    product.stack.hubspot.load_seed(generate_seed(6, seed=2, now_ms=anchor_now()))
    assert product.reconcile(since=_since(130)).success
    steps = {}
    for name in (
        "hubspot_deals",
        "partner_central_opportunities",
        "opportunity_creates",
        "hubspot_deal_writes",
    ):
        event = product.instance.get_latest_materialization_event(dg.AssetKey(name))
        assert event is not None and event.asset_materialization is not None
        steps[name] = {
            k: v.value for k, v in event.asset_materialization.metadata.items() if k.startswith("step_")
        }
    assert steps["hubspot_deals"]["step_api_calls_hubspot"] > 0
    assert "step_api_calls_partner_central" not in steps["hubspot_deals"]
    assert steps["opportunity_creates"]["step_writes_partner_central"] >= 1
    # the run's total is the sum of its steps (each counted once)
    total = _latest(product)["api_calls_hubspot"].value
    hubspot_steps = sum(s.get("step_api_calls_hubspot", 0) for s in steps.values())
    assert total == hubspot_steps
