"""Secrets (issue 9): a run with known token and secret values, failures included, leaves none of them
in logs, run storage (events, metadata, errors), compute logs or any file under DAGSTER_HOME."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dagster as dg
from dagster._serdes import serialize_value

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines_tests.support.outcomes import since, step_failures
from hspc_pipelines_tests.support.product import Product

HUBSPOT_TOKEN = "pat-na1-SECRETHUBSPOTTOKEN-7f3a9c"
CLIENT_SECRET = "SECRETCLIENTSECRET-1b2c3d4e"
AWS_KEY_ID = "AKIASECRETKEYID0042"
AWS_SECRET = "SECRETAWSSECRETKEY/abc+Zq9x8w7v6u5t"
SECRETS = (HUBSPOT_TOKEN, CLIENT_SECRET, AWS_KEY_ID, AWS_SECRET)
# The access key id is an identifier, not a secret: botocore's own DEBUG log of the signed request
# shows it (Credential=AKIA...). It must appear nowhere else; the three real secrets nowhere at all.
IDENTIFIERS = (AWS_KEY_ID,)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.third_party_debug: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record that cannot format still must not hide a secret
            line = repr(record.__dict__)
        debug_elsewhere = record.levelno <= logging.DEBUG and not record.name.startswith("hspc_pipelines")
        (self.third_party_debug if debug_elsewhere else self.lines).append(line)


def _found(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_no_secret_reaches_logs_storage_metadata_or_errors(product, monkeypatch):
    hs, pc = product.stack.hubspot, product.stack.partner_central
    hs.access_tokens = frozenset({HUBSPOT_TOKEN})
    for key, value in {
        "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_CLIENT_SECRET": CLIENT_SECRET,
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
    }.items():
        monkeypatch.setenv(key, value)
    from hspc_pipelines.definitions import build_defs

    secret_product = Product(product.stack, product.home, product.instance, build_defs(str(product.home)))
    hs.load_seed(generate_seed(20, seed=8, now_ms=anchor_now()))
    # Properties exist before the faults (a 5xx on their creation is the bootstrap bug in test_faults).
    bootstrap_properties(HubSpotClient(HUBSPOT_TOKEN, product.stack.env["HUBSPOT_BASE_URL"]))

    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    errors: list[str] = []
    run_ids: list[str] = []
    try:
        # 1: faults on both sides (retries, failed rows with error messages).
        hs.set_faults(rate=0.15, kinds=["429", "500", "503"], seed=5)
        pc.set_faults(
            {
                "rate": 0.2,
                "kinds": ["ThrottlingException", "InternalServerException", "ConflictException"],
                "seed": 5,
            }
        )
        first = secret_product.reconcile(since=since(130))
        run_ids.append(first.run_id)
        writes = first.frames.get("hubspot_deal_writes")
        if writes is not None:
            errors += [e for e in writes.get("error_message", []) if isinstance(e, str) and e]
        hs.set_faults(None)
        pc.set_faults()
        # 2: Partner Central refuses (AccessDenied with its hint).
        pc.set_denied(True)
        denied = secret_product.reconcile(since=since(130))
        pc.set_denied(False)
        assert not denied.success
        run_ids.append(denied.run_id)
        # 3: HubSpot refuses the token (401).
        hs.access_tokens = frozenset({"another-token"})
        refused = secret_product.reconcile(since=since(130))
        hs.access_tokens = frozenset({HUBSPOT_TOKEN})
        assert not refused.success
        run_ids.append(refused.run_id)
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)

    for run_id in run_ids:
        errors += step_failures(secret_product, run_id)
    assert any("AccessDenied" in e for e in errors) and any(
        "401" in e or "AUTHENTICATION" in e for e in errors
    ), errors

    places: dict[str, list[str]] = {}
    places["logs"] = [line[:300] for line in capture.lines if _found(line)][:5]
    places["third-party DEBUG logs"] = [
        line[:300] for line in capture.third_party_debug if set(_found(line)) - set(IDENTIFIERS)
    ][:5]
    places["error messages"] = _found("\n".join(errors))
    instance = secret_product.instance
    events_text = "\n".join(serialize_value(r) for rid in run_ids for r in instance.all_logs(rid))
    places["run storage events and metadata"] = _found(events_text)
    runs_text = "\n".join(serialize_value(r) for r in instance.get_runs())
    places["runs, tags and run config"] = _found(runs_text)
    mats = [
        serialize_value(e)
        for e in instance.get_event_records(
            dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        )
    ]
    assert mats, "the runs recorded asset materializations"
    places["asset metadata"] = _found("\n".join(mats))

    files = [Path(d) / f for d, _, fs in os.walk(product.home) for f in fs]
    assert any(f.suffix == ".parquet" for f in files) and any(
        "sqlite" in f.name or f.suffix == ".db" for f in files
    )
    leaked_files = []
    for path in files:
        data = path.read_bytes()
        hits = [s for s in SECRETS if s.encode() in data or s.encode("utf-16-le") in data]
        if hits:
            leaked_files.append(f"{path.relative_to(product.home)}: {hits}")
    places["files under DAGSTER_HOME (compute logs, Delta tables, SQLite)"] = leaked_files
    assert {k: v for k, v in places.items() if v} == {}, "secrets found: " + repr(places)
    print(
        f"secrets scan: {len(capture.lines) + len(capture.third_party_debug)} log lines, {len(events_text)} chars of events, {len(files)} files: 0 secrets found"
    )
