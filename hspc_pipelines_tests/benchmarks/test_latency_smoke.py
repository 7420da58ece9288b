"""benchmarks/latency.py at its cheap edges (a few seconds): the figures it reports, and the sending half
(a deal created in the HubSpot emulator, its signed webhook accepted by `hspc ingress` over HTTP and
queued). The measured path through `dagster dev` takes minutes: `python -m benchmarks.latency`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import requests

from benchmarks.latency import Deals, Ingress, LatencyResult, Sample, percentile, product_env
from hspc_pipelines.emulators.stack import EmulatorStack

INF = float("inf")


def test_percentiles_and_the_table_cell() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([10.0, 20.0], 95) == 19.5
    assert percentile([1.0, 2.0, INF], 50) == 2.0
    assert percentile([1.0, 2.0, INF], 95) == INF  # a deal never created is a miss, not a gap
    samples = [Sample("1", 0.0, 0.0, created=12.0), Sample("2", 0.0, 1.0)]
    result = LatencyResult(samples, None, p50=12.0, p95=INF, max=INF, missing=1)
    assert str(result) == "12.0 s / inf (max inf, n=2, 1 never created)"
    assert not result.ok
    assert result.as_dict()["samples"][1]["latency_s"] is None


def test_new_deal_and_its_signed_webhook_reach_the_queue(tmp_path: Path) -> None:
    with EmulatorStack() as stack:
        deals = Deals(stack, 1, seed=3)
        (deal_id,) = deals.ids
        body = deals.create(deal_id)
        ingress = Ingress(product_env(stack, tmp_path / "home", product_schedules=False), tmp_path)
        try:
            resp = ingress.post_webhook(body, stack.env["HUBSPOT_CLIENT_SECRET"])
        finally:
            ingress.proc.stop()
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "queued"
        got = stack.aws_client("sqs").receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10)
        assert len(got.get("Messages", [])) == 1
        assert json.loads(body)[0]["objectId"] == int(deal_id)
        deal = requests.get(
            f"{stack.env['HUBSPOT_BASE_URL']}/crm/v3/objects/deals/{deal_id}",
            params={"properties": "dealname,createdate"},
            headers={"Authorization": f"Bearer {stack.env['HUBSPOT_ACCESS_TOKEN']}"},
            timeout=10,
        ).json()["properties"]
        assert "#aws" in deal["dealname"].lower()  # co-sell
        assert deal["createdate"][:10] == dt.datetime.now(dt.UTC).date().isoformat()


def test_journal_mode_measures_both_paths_on_the_same_deals() -> None:
    from benchmarks.latency import JOURNAL_SENSOR, SENSOR, run_journal

    # In client-credentials mode (the emulator's journal refuses a static token): a miss would show here.
    result = run_journal(2, quiet=True)
    assert result.missing == 0, "each deal reached a run request through the queue and the journal"
    for sample in result.samples:
        assert set(sample.ticks) == {SENSOR, JOURNAL_SENSOR} and all(t >= 1 for t in sample.ticks.values())
    assert result.hubspot_calls_per_journal_tick >= 2, "an entry costs at least `next` twice"
    assert "journal/push latency ratio" in str(result)
