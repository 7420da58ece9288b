"""Alerts over real HTTP: Slack through dagster-slack's client (slack_sdk against a local server),
else the webhook; errors name no secret; the run-failure sensor alerts and counts FailedRuns."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from slack_sdk import WebClient

from hspc_pipelines.defs.alerts import AlertError, alert_on_rows, deliver, rows_alert_text
from hspc_pipelines.defs.history import RunIdentity
from hspc_pipelines.defs.sensors.run_failure import run_failure_sensor
from hspc_pipelines.settings import load_settings
from hspc_pipelines_tests.support.receiver import http_receiver

TOKEN = "xoxb-secret-token"
RUN = RunIdentity("run-1", "reconcile", {})


def slack_client(url: str) -> WebClient:
    return WebClient(token=TOKEN, base_url=url + "/api/")


def test_slack_when_token_and_channel_are_set_else_the_webhook() -> None:
    with http_receiver() as slack, http_receiver() as hook:
        env = {"HSPC_SLACK_TOKEN": TOKEN, "HSPC_SLACK_CHANNEL": "#ops", "HSPC_ALERT_WEBHOOK_URL": hook.url}
        assert deliver("run failed", load_settings(env), slack_client(slack.url)) == "slack"
        assert [(p, b["channel"], b["text"]) for _, p, b in slack.requests] == [
            ("/api/chat.postMessage", "#ops", "run failed")
        ]
        assert hook.requests == []  # Slack configured: the webhook is not used as well

        # a channel without a token (or the reverse) is not Slack: the webhook gets it
        env.pop("HSPC_SLACK_TOKEN")
        assert deliver("run failed", load_settings(env), slack_client(slack.url)) == "webhook"
        assert hook.bodies() == [{"text": "run failed"}]
        assert len(slack.requests) == 1


def test_nothing_configured_sends_nothing() -> None:
    assert deliver("x", load_settings({})) is None


def test_long_texts_are_cut_for_slack() -> None:
    with http_receiver() as slack:
        env = {"HSPC_SLACK_TOKEN": TOKEN, "HSPC_SLACK_CHANNEL": "C123"}
        deliver("y" * 5000, load_settings(env), slack_client(slack.url))
        assert len(slack.bodies()[0]["text"]) == 3000


def test_refusals_name_no_secret() -> None:
    with http_receiver() as slack:
        slack.reply = {"ok": False, "error": "channel_not_found"}
        env = {"HSPC_SLACK_TOKEN": TOKEN, "HSPC_SLACK_CHANNEL": "#nope"}
        with pytest.raises(AlertError, match="Slack refused the alert: channel_not_found") as refused:
            deliver("x", load_settings(env), slack_client(slack.url))
        assert TOKEN not in str(refused.value)
    with http_receiver() as hook:
        hook.status = 500
        url = hook.url + "/services/T000/B000/very-secret"
        with pytest.raises(AlertError, match="alert webhook failed: HTTPError") as failed:
            deliver("x", load_settings({"HSPC_ALERT_WEBHOOK_URL": url}))
        assert "very-secret" not in str(failed.value)


@pytest.mark.parametrize(
    ("failed", "invalid", "threshold", "sent"),
    [(0, 0, 0, False), (1, 0, 0, True), (0, 1, 0, True), (5, 5, 10, False), (6, 5, 10, True)],
)
def test_rows_alert_above_the_threshold(failed: int, invalid: int, threshold: int, sent: bool) -> None:
    text = rows_alert_text(RUN, {"rows_failed": failed, "rows_invalid": invalid}, threshold)
    assert (text is not None) == sent
    if text:
        assert f"{failed} failed and {invalid} invalid rows" in text and "run-1" in text


class Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, text: str) -> None:
        self.warnings.append(text)


def test_a_failed_delivery_is_logged_and_does_not_raise(monkeypatch) -> None:
    with http_receiver() as hook:
        hook.status = 403
        monkeypatch.setenv("HSPC_ALERT_WEBHOOK_URL", hook.url + "/secret")
        monkeypatch.setenv("HSPC_ALERT_ROWS_THRESHOLD", "2")
        log = Log()
        assert alert_on_rows(log, RUN, {"rows_failed": 3, "rows_invalid": 0}) is None
        assert len(hook.requests) == 1
        assert log.warnings[-1] == "alert webhook failed: HTTPError"
        assert not any("/secret" in w for w in log.warnings)


def test_run_failure_sensor_alerts_and_counts_the_failed_run(monkeypatch, capsys) -> None:
    @dg.op
    def breaks() -> None:
        raise RuntimeError("boom")

    @dg.job
    def fragile() -> None:
        breaks()

    with http_receiver() as hook, dg.instance_for_test() as instance:
        monkeypatch.setenv("HSPC_ALERT_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("HSPC_CLOUDWATCH_METRICS", "true")
        result = fragile.execute_in_process(instance=instance, raise_on_error=False)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
        ).for_run_failure()
        run_failure_sensor(context)
        [body] = hook.bodies()
        assert body["text"].startswith(f"hspc run {result.run_id} of job fragile failed")
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"_aws"')]
        assert [(x["FailedRuns"], x["Job"]) for x in lines] == [(1, "fragile")]
