"""The progress printer's pieces without a run: durations people read, and one actionable line from a
step's error chain (the end-to-end behaviour is in test_cli.py)."""

from __future__ import annotations

import pytest
from dagster_shared.error import SerializableErrorInfo

from hspc_pipelines.reconcile.progress import _seconds, error_line


def wrapped(cls_name: str, message: str) -> SerializableErrorInfo:
    """A user error under Dagster's step wrapper, as a failed step reports it."""
    cause = SerializableErrorInfo(f"{cls_name}: {message}\n", [], cls_name)
    return SerializableErrorInfo(
        "Error occurred while executing op\n", [], "DagsterExecutionStepExecutionError", cause
    )


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (0.2, "under a second"), (41.4, "41 s"), (125, "2 min 05 s")]
)
def test_durations(seconds: float, text: str) -> None:
    assert _seconds(seconds) == text


@pytest.mark.parametrize(
    ("cls_name", "message", "starts"),
    [
        ("HubSpotError", "HubSpot GET /x: HTTP 401 INVALID_AUTHENTICATION: bad", "HubSpot refused the access token"),
        ("TokenRequestError", "HubSpot POST /oauth/v1/token: HTTP 400 BAD_CLIENT_SECRET: no", "HubSpot gave no client-credentials token"),
        ("HubSpotError", "HubSpot GET /x: HTTP 403 MISSING_SCOPES: no", "the HubSpot token lacks a scope"),
        ("HubSpotError", "HubSpot GET /x: no response CONNECTION: refused", "HubSpot is unreachable"),
        ("PartnerCentralError", "Partner Central ListSolutions: EndpointConnectionError: x", "Partner Central is unreachable"),
        ("NoCredentialsError", "Unable to locate credentials", "no AWS credentials"),
        ("ValueError", "something else", "ValueError: something else"),
    ],
)  # fmt: skip
def test_error_line_names_the_step_what_to_do_and_the_error(cls_name: str, message: str, starts: str) -> None:
    line = error_line("hubspot_deals", wrapped(cls_name, message))
    assert "\n" not in line
    assert line.startswith(f"hubspot_deals: {starts}")
    assert message.splitlines()[0] in line  # the error's own words stay


def test_a_step_without_error_info() -> None:
    assert error_line("sync_plan", None) == "sync_plan failed"
