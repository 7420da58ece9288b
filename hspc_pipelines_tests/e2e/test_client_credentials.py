"""A reconcile signed in with a developer-platform app's client-credentials tokens (no static token in
the environment): it syncs as with a private app token, every HubSpot call carries an issued token,
and when HubSpot stops taking the token mid-way the run gets one new token and fails nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.emulators.stack import HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, EmulatorStack
from hspc_pipelines_tests.support.environment import FAST_ENV
from hspc_pipelines_tests.support.product import Product


@pytest.fixture
def app_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Product]:
    with EmulatorStack() as stack:
        env = {**stack.env, **FAST_ENV, "DAGSTER_HOME": str(tmp_path), "HUBSPOT_CLIENT_ID": HUBSPOT_CLIENT_ID}
        del env["HUBSPOT_ACCESS_TOKEN"]  # the app's client id and secret are the only HubSpot credential
        monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
        monkeypatch.delenv("HSPC_HUBSPOT_TOKEN_SSM_PARAMETER", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        from hspc_pipelines.definitions import build_defs

        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            yield Product(stack=stack, home=tmp_path, instance=instance, defs=build_defs(str(tmp_path)))


def _since(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


def _refused(product: Product) -> int:
    return int(product.stack.hubspot.stats()["statuses"].get("401", 0))


def test_a_reconcile_with_client_credentials_syncs_and_survives_a_revoked_token(app_product):
    product = app_product
    data = generate_seed(16, seed=5, now_ms=anchor_now())
    product.stack.hubspot.load_seed(data)
    hubspot = product.stack.hubspot

    first = product.reconcile(since=_since(130))
    assert first.success
    writes = first.frames["hubspot_deal_writes"].to_dict("records")
    assert {str(w["deal_id"]) for w in writes} == set(data.cosell_deal_ids)
    created = Counter(w["final_status"] for w in writes)["created"]
    assert created > 0 and len(product.opportunities()) == created
    stats = hubspot.stats()
    assert stats["tokens_issued"] == 1, "one token for the whole run, every step and thread"
    assert _refused(product) == 0
    assert stats["calls"]["POST /oauth/v1/token"] == 1

    # HubSpot stops taking the token (revoked, or expired early); a seller edits a linked deal.
    tokens = list(hubspot.state.apps.issued)  # before the revocation forgets them
    linked = next(str(w["deal_id"]) for w in writes if w["final_status"] == "created")
    product.hubspot("PATCH", f"/crm/v3/objects/deals/{linked}", json={"properties": {"amount": "91000"}})
    hubspot.configure(revoke_tokens=True)
    second = product.reconcile(since=_since(130))
    assert second.success
    rows = {str(w["deal_id"]): w for w in second.frames["hubspot_deal_writes"].to_dict("records")}
    assert rows[linked]["final_status"] == "updated"
    # Threads that sent the revoked token at once each got one 401; they share one new token.
    assert 1 <= _refused(product) <= 8
    assert hubspot.stats()["tokens_issued"] == 2
    tokens += list(hubspot.state.apps.issued)
    # Neither the secret nor a token is in the runs' event logs (metadata, log lines, run config).
    logged = "\n".join(
        str(record) for run in (first, second) for record in product.instance.all_logs(run.run_id)
    )
    logged += "\n".join(str(r.run_config) for r in product.instance.get_runs())
    assert len(tokens) == 2 and logged
    assert HUBSPOT_CLIENT_SECRET not in logged and not [t for t in tokens if t in logged]
