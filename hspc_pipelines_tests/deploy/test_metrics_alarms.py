"""The metrics the code prints (CloudWatch embedded metric format) against the template's alarms: the
lines parse as EMF, and every alarm on the `hspc` namespace watches a metric the code emits, under
the series (no dimensions) the alarm reads."""

from __future__ import annotations

import json
from typing import Any

from hspc_pipelines.metrics import emf
from hspc_pipelines.metrics.figures import CallFigures, reconcile_figures
from hspc_pipelines_tests.support.cloudformation import template as load_template

TEMPLATE_ALARMS = ("FailedRunsAlarm", "FailedRowsAlarm", "ThrottledCallsAlarm", "WriteQuotaAlarm")


def hspc_alarms() -> dict[str, dict[str, Any]]:
    resources = load_template()["Resources"]
    return {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("Namespace") == emf.NAMESPACE
    }


def figures() -> dict[str, int | float]:
    return reconcile_figures(
        {"created": 3, "failed": 2, "invalid": 1},
        4,
        {"hubspot": CallFigures(10, 1), "partner_central": CallFigures(20, 2, 5)},
        writes_per_day=10_000,
        duration_seconds=12.5,
    )


def check_emf(doc: dict[str, Any]) -> list[str]:
    """The EMF specification's rules a line must follow (names, units, members present)."""
    meta = doc["_aws"]
    assert isinstance(meta["Timestamp"], int)
    names: list[str] = []
    for directive in meta["CloudWatchMetrics"]:
        assert directive["Namespace"] == emf.NAMESPACE
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(doc[d], str) for d in dimension_set)  # dimensions are string members
        for metric in directive["Metrics"]:
            assert metric["Unit"] in {"Count", "Seconds", "None", "Percent"}
            assert isinstance(doc[metric["Name"]], int | float)
            names.append(metric["Name"])
    return names


def test_the_run_line_parses_as_emf_with_every_figure() -> None:
    line = emf.run_metrics_line(figures(), job="reconcile", timestamp_ms=1_700_000_000_000)
    assert "\n" not in line
    doc = json.loads(line)
    names = check_emf(doc)
    assert set(names) == set(emf.METRICS)
    assert doc["FailedRows"] == 2 and doc["ThrottledCalls"] == 3 and doc["PartnerCentralWrites"] == 5
    assert doc["WriteQuotaShare"] == 0.0005 and doc["Job"] == "reconcile"


def test_the_failed_run_line_parses_as_emf() -> None:
    doc = json.loads(emf.failed_run_line(job="reconcile", timestamp_ms=1))
    assert check_emf(doc) == [emf.FAILED_RUNS] and doc[emf.FAILED_RUNS] == 1


def test_every_hspc_alarm_watches_an_emitted_metric_without_dimensions() -> None:
    alarms = hspc_alarms()
    assert set(alarms) == set(TEMPLATE_ALARMS)
    emitted = set(emf.METRICS) | {emf.FAILED_RUNS}
    run_doc = json.loads(emf.run_metrics_line(figures(), job="reconcile", timestamp_ms=1))
    directive = run_doc["_aws"]["CloudWatchMetrics"][0]
    assert [] in directive["Dimensions"]  # the series the alarms read
    for name, alarm in alarms.items():
        assert alarm["MetricName"] in emitted, f"{name} watches {alarm['MetricName']}, which no code emits"
        assert not alarm.get("Dimensions"), f"{name} reads a dimensioned series; the code emits none"


def test_the_queue_alarms_exist() -> None:
    """The AWS/SQS alarms: messages in the dead-letter queue, the oldest event older than N minutes."""
    resources = load_template()["Resources"]
    dlq = resources["DeadLetterMessagesAlarm"]["Properties"]
    assert (dlq["Namespace"], dlq["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    age = resources["EventsQueueAgeAlarm"]["Properties"]
    assert age["Threshold"] == {"Ref": "QueueMaxAgeMinutes"}
    metric = age["Metrics"][0]["MetricStat"]["Metric"]
    assert metric["MetricName"] == "ApproximateAgeOfOldestMessage"
