"""Alerts to people: Slack through dagster-slack when HSPC_SLACK_TOKEN and HSPC_SLACK_CHANNEL are set,
else the Slack-compatible webhook HSPC_ALERT_WEBHOOK_URL, else only the log. An alert that cannot be
delivered is logged (without the URL or token) and never fails the run that raised it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import requests
from dagster_slack import SlackResource
from slack_sdk.errors import SlackApiError

from hspc_pipelines.defs.history import RunIdentity
from hspc_pipelines.metrics.figures import Figure
from hspc_pipelines.settings import Settings, load_settings

MAX_TEXT = 3000  # Slack shows longer texts folded; the first line says what happened
Channel = Literal["slack", "webhook"]


def deliver(text: str, settings: Settings | None = None, slack_client: Any = None) -> Channel | None:
    """Send `text` where the settings say; returns where it went (None: nowhere configured).
    `slack_client` replaces the `slack_sdk.WebClient` dagster-slack builds (tests: a local server).
    Raises `AlertError` (no secret in its message) when the destination refuses it."""
    settings = settings or load_settings()
    if settings.slack_token and settings.slack_channel:
        client = slack_client or SlackResource(token=settings.slack_token.get_secret_value()).get_client()
        try:
            client.chat_postMessage(channel=settings.slack_channel, text=text[:MAX_TEXT])
        except SlackApiError as exc:
            raise AlertError(
                f"Slack refused the alert: {exc.response.get('error', 'unknown error')}"
            ) from None
        except OSError as exc:  # URLError and socket errors: Slack unreachable
            raise AlertError(f"Slack unreachable: {type(exc).__name__}") from None
        return "slack"
    if settings.alert_webhook_url:
        try:
            requests.post(
                settings.alert_webhook_url.get_secret_value(), json={"text": text[:MAX_TEXT]}, timeout=(3, 10)
            ).raise_for_status()
        except requests.RequestException as exc:
            raise AlertError(f"alert webhook failed: {type(exc).__name__}") from None
        return "webhook"
    return None


class AlertError(RuntimeError):
    """An alert could not be delivered (the message names no URL and no token)."""


def deliver_or_log(text: str, log: Any) -> Channel | None:
    try:
        return deliver(text)
    except AlertError as exc:
        log.warning(str(exc))
        return None


def rows_alert_text(run: RunIdentity, figures: Mapping[str, Figure], threshold: int) -> str | None:
    """The alert for a run whose failed plus invalid rows exceed `threshold`, else None."""
    failed, invalid = int(figures.get("rows_failed", 0)), int(figures.get("rows_invalid", 0))
    if failed + invalid <= threshold:
        return None
    return (
        f"hspc run {run.run_id} of job {run.job_name}: {failed} failed and {invalid} invalid rows "
        f"(alert threshold {threshold}); each row's reason is on the deal (aws_sync_error) and in "
        f"`hspc history`"
    )


def alert_on_rows(log: Any, run: RunIdentity, figures: Mapping[str, Figure]) -> Channel | None:
    text = rows_alert_text(run, figures, load_settings().alert_rows_threshold)
    if text is None:
        return None
    log.warning(text)
    return deliver_or_log(text, log)
