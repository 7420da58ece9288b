"""benchmarks/hubspot_auth.py at a tiny size: the same rows and CRM calls with a static token and with
client-credentials tokens that must be renewed, no call refused, tokens asked for only in that mode.
Counts only; nothing here asserts a timing."""

from __future__ import annotations

from benchmarks.hubspot_auth import measure, same_work, table


def test_client_credentials_cost_token_requests_only() -> None:
    figures = measure(deals=12, lifetime=2.0)
    text = table(figures)
    assert same_work(figures), text
    assert all(f.success and f.refused == 0 for f in figures), text
    by = {(f.mode, f.run): f for f in figures}
    assert by["private_app", "first load"].token_requests == by["private_app", "no-op"].token_requests == 0
    assert by["client_credentials", "first load"].token_requests >= 1, text
    assert by["client_credentials", "first load"].rows == {"created": 12}, text
