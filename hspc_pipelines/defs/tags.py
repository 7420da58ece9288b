"""Run tags the product sets and the instance configuration reads (dagster.yaml, deploy/dagster.yaml)."""

from __future__ import annotations

WRITES_TAG = "hspc/writes"  # runs that write to either system queue one at a time (dagster.yaml)
WRITES = {WRITES_TAG: "true"}
# Runs that go before the reconcile (event runs, submissions): the queue takes them first among the
# runs waiting (Dagster's priority tag), and a reconcile writing stops when one waits (quotas/run.py).
PRIORITY_TAG = "hspc/priority"
EVENT_PRIORITY = {PRIORITY_TAG: "event"}
PRIORITY_RUN = {**WRITES, **EVENT_PRIORITY, "dagster/priority": "10"}
# Set on a reconcile run that gave the slot up (the runs it gave way to): reconcile_resume_sensor
# starts it again once they are done, instead of leaving its rows to the next tick.
GAVE_WAY_TAG = "hspc/gave_way"
RESUMES_TAG = "hspc/resumes"  # on the run reconcile_resume_sensor starts: the run id it continues
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(start: str, end: str) -> dict[str, str]:
    """Tags that make one run cover the partitions from `start` to `end` (a single-run backfill)."""
    return {RANGE_START_TAG: start, RANGE_END_TAG: end}
