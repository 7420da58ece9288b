"""Partner Central permissions (issue 9): AccessDeniedException stops the run at the first Partner
Central call, HubSpot gets no write, and the error says what to fix."""

from __future__ import annotations

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines_tests.support.outcomes import since, step_failures

HUBSPOT_WRITES = (
    "batch/update",
    "batch/create",
    "PATCH ",
    "PUT ",
    "DELETE ",
    "POST /crm/properties/",
    "POST /crm/v3/properties",
)


def _prepare(product):
    product.stack.hubspot.load_seed(generate_seed(12, seed=4, now_ms=anchor_now()))
    env = product.stack.env
    bootstrap_properties(HubSpotClient(env["HUBSPOT_ACCESS_TOKEN"], env["HUBSPOT_BASE_URL"]))
    product.stack.hubspot.reset_stats()
    product.stack.partner_central.reset_stats()


def _hubspot_writes(product):
    return {k: n for k, n in product.hubspot_calls().items() if any(w in k for w in HUBSPOT_WRITES)}


def _says_what_to_fix(messages):
    text = "\n".join(messages)
    assert "AccessDenied" in text, text[:2000]
    assert "PARTNER_CENTRAL_ROLE_ARN" in text and "ExternalId" in text, text[:2000]
    assert "PARTNER_CENTRAL_EXTERNAL_ID" in text, text[:2000]


def test_wrong_role_stops_the_run_at_the_first_partner_central_call(product):
    _prepare(product)
    product.stack.partner_central.set_denied(True)
    outcome = product.reconcile(since=since(130))
    assert not outcome.success
    failures = step_failures(product, outcome.run_id)
    _says_what_to_fix(failures)
    stats = product.stack.partner_central.stats()
    # Each snapshot step that ran made exactly one call, refused, and was not retried.
    assert all(n == 1 for n in stats["calls"].values()), stats["calls"]
    assert set(stats["calls"]) <= {"ListSolutions", "ListOpportunities"}, stats["calls"]
    assert stats["errors"] == {"AccessDeniedException": stats["total"]}, stats
    assert _hubspot_writes(product) == {}
    assert "opportunity_creates" not in outcome.frames and "hubspot_deal_writes" not in outcome.frames


def test_missing_create_permission_stops_the_apply_at_the_first_create(product):
    _prepare(product)
    product.stack.partner_central.set_denied(["CreateOpportunity"])
    outcome = product.reconcile(since=since(130))
    assert not outcome.success
    failures = step_failures(product, outcome.run_id)
    assert any(f.startswith("opportunity_creates") for f in failures), failures
    _says_what_to_fix(failures)
    calls = product.pc_calls()
    assert calls.get("CreateOpportunity") == 1, calls  # not one per deal
    assert not {"UpdateOpportunity", "AssociateOpportunity"} & set(calls), calls
    assert product.opportunities() == []
    assert _hubspot_writes(product) == {}, "no deal marked failed for a configuration problem"
