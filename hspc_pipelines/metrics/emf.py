"""CloudWatch embedded metric format (EMF): one JSON line per run that CloudWatch Logs turns into
metrics in the namespace `hspc`, with no API call and no IAM permission (the tasks' awslogs driver
delivers stdout). The alarms in deploy/cloudformation.yaml watch the series without dimensions, so
every metric is published without dimensions and, for graphs, with the job's name.

Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from hspc_pipelines.metrics.figures import Figure

NAMESPACE = "hspc"

# CloudWatch metric name -> (the run figure it publishes, unit). FailedRows, ThrottledCalls (and
# FailedRuns, below) are the names the template's alarms use; a test keeps them equal.
METRICS: dict[str, tuple[str, str]] = {
    "FailedRows": ("rows_failed", "Count"),
    "InvalidRows": ("rows_invalid", "Count"),
    "DeferredRows": ("deferred_rows", "Count"),
    "ThrottledCalls": ("throttled_calls", "Count"),
    "PartnerCentralWrites": ("partner_central_writes", "Count"),
    "WriteQuotaShare": ("write_quota_share", "None"),
    "DealWrites": ("deal_writes", "Count"),
    "Creates": ("creates", "Count"),
    "Updates": ("updates", "Count"),
    "HubSpotCalls": ("api_calls_hubspot", "Count"),
    "PartnerCentralCalls": ("api_calls_partner_central", "Count"),
    "RunDuration": ("run_duration_seconds", "Seconds"),
}
FAILED_RUNS = "FailedRuns"  # emitted by the run-failure sensor, 1 per failed run


def emf_document(
    values: Mapping[str, tuple[Figure, str]], *, job: str, timestamp_ms: int
) -> dict[str, object]:
    """The EMF object for `{metric name: (value, unit)}`, published with no dimension and by `Job`."""
    if not values:
        raise ValueError("values: an EMF line needs at least one metric")
    return {
        "_aws": {
            "Timestamp": int(timestamp_ms),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [[], ["Job"]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
                }
            ],
        },
        "Job": job,
        **{name: value for name, (value, _) in values.items()},
    }


def run_metrics_line(figures: Mapping[str, Figure], *, job: str, timestamp_ms: int) -> str:
    """One line with every figure of `METRICS` that the run has."""
    values = {name: (figures[key], unit) for name, (key, unit) in METRICS.items() if key in figures}
    return json.dumps(emf_document(values, job=job, timestamp_ms=timestamp_ms), separators=(",", ":"))


def failed_run_line(*, job: str, timestamp_ms: int) -> str:
    return json.dumps(
        emf_document({FAILED_RUNS: (1, "Count")}, job=job, timestamp_ms=timestamp_ms), separators=(",", ":")
    )
