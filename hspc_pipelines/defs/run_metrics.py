"""A run's figures as Dagster metadata (numbers Dagster plots over time) and, when
HSPC_CLOUDWATCH_METRICS is set, as one CloudWatch EMF line on stdout (the figures themselves are
computed in `hspc_pipelines.metrics`, pure).

Each step records the calls it made (`step_*`: a delta of its clients' counters, right whether the
steps share a process or not); the reconcile's last step adds up the run's steps from the event log.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping

import dagster as dg
from dagster._core.errors import DagsterInvalidPropertyError

from hspc_pipelines.defs.history import run_identity
from hspc_pipelines.defs.resources import HubSpotResource, PartnerCentralResource
from hspc_pipelines.metrics import emf
from hspc_pipelines.metrics.figures import SERVICES, CallFigures, Figure, flow_figures, quota_share
from hspc_pipelines.settings import load_settings

_STEP_KEYS = {"calls": "step_api_calls_{}", "throttled": "step_throttled_{}", "writes": "step_writes_{}"}


class StepCalls:
    """The calls made between its creation and `figures()`, per service."""

    def __init__(
        self, hubspot: HubSpotResource | None = None, partner_central: PartnerCentralResource | None = None
    ) -> None:
        self._resources = {
            name: r
            for name, r in (("hubspot", hubspot), ("partner_central", partner_central))
            if r is not None
        }
        self._before = {name: r.call_figures() for name, r in self._resources.items()}

    def figures(self) -> dict[str, CallFigures]:
        return {name: r.call_figures().since(self._before[name]) for name, r in self._resources.items()}

    def metadata(self) -> dict[str, int | float]:
        """`step_api_calls_<service>`, `step_throttled_<service>`, `step_writes_<service>`, and this
        step's share of the daily write quota."""
        out: dict[str, int | float] = {}
        pc_resource = self._resources.get("partner_central")
        if pc_resource is not None:
            pc_resource.flush_ledger()  # type: ignore[union-attr]  # the step's calls, booked before it ends
        figures = self.figures()
        for service, f in figures.items():
            for attr, key in _STEP_KEYS.items():
                out[key.format(service)] = int(getattr(f, attr))
        pc = figures.get("partner_central")
        if pc is not None:
            out["step_write_quota_share"] = quota_share(pc.writes, load_settings().pc_writes_per_day)
        return out


def _step_key(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> str:
    op_context = context.op_execution_context if isinstance(context, dg.AssetExecutionContext) else context
    try:
        return op_context.get_step_execution_context().step.key
    except DagsterInvalidPropertyError:  # an asset invoked as a function has no step: its name
        return context.asset_key.path[-1] if isinstance(context, dg.AssetExecutionContext) else ""


def _step_metadata(record: object) -> Mapping[str, object] | None:
    """The metadata a step recorded its calls in: an asset's materialization or an op's output."""
    event = getattr(record, "dagster_event", None)
    if event is None:
        return None
    meta: Mapping[str, object] | None = None
    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        meta = event.step_materialization_data.materialization.metadata
    elif event.event_type == dg.DagsterEventType.STEP_OUTPUT:
        meta = event.step_output_data.metadata
    return meta


def run_calls(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, own: Mapping[str, CallFigures]
) -> dict[str, CallFigures]:
    """The calls of the whole run: this step's plus those its run's earlier steps recorded (assets in
    their materializations, ops in their outputs)."""
    totals = {s: own.get(s, CallFigures()) for s in SERVICES}
    seen = {_step_key(context)}  # this step's own figures are `own`
    records = context.instance.all_logs(
        context.run_id,
        of_type={dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.STEP_OUTPUT},
    )
    for record in records:
        meta = _step_metadata(record)
        # A range run materializes each asset once per day with the same step figures: count one.
        if meta is None or record.step_key in seen or not any(k.startswith("step_") for k in meta):
            continue
        seen.add(str(record.step_key))
        for service in SERVICES:
            got = {attr: _int(meta.get(key.format(service))) for attr, key in _STEP_KEYS.items()}
            totals[service] = totals[service] + CallFigures(**got)
    return totals


def flow_run_figures(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    step: StepCalls,
    rows_total: int,
    rows_failed: int,
) -> dict[str, Figure]:
    """A co-sell run's figures, recorded on its last asset (and printed as EMF when asked)."""
    figures = flow_figures(
        rows_total,
        rows_failed,
        run_calls(context, step.figures()),
        writes_per_day=load_settings().pc_writes_per_day,
        duration_seconds=run_duration(context),
    )
    emit(figures, run_identity(context).job_name)
    return figures


def _int(value: object) -> int:
    return int(value.value) if isinstance(value, dg.IntMetadataValue) and value.value is not None else 0


def run_duration(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> float:
    """Seconds since the run started (0 when the instance has no start time for it)."""
    stats = context.instance.get_run_stats(context.run_id)
    return max(0.0, time.time() - stats.start_time) if stats.start_time else 0.0


def plotted(figures: Mapping[str, Figure]) -> dict[str, dg.MetadataValue]:
    """Numeric metadata (int or float), which the UI plots across materializations."""
    return {
        k: dg.MetadataValue.float(float(v)) if isinstance(v, float) else dg.MetadataValue.int(int(v))
        for k, v in figures.items()
    }


def emit(figures: Mapping[str, Figure], job: str) -> str | None:
    """Print the run's EMF line when HSPC_CLOUDWATCH_METRICS is set; returns the line printed."""
    if not load_settings().cloudwatch_metrics:
        return None
    line = emf.run_metrics_line(figures, job=job, timestamp_ms=int(time.time() * 1000))
    print(line, file=sys.stdout, flush=True)
    return line


def emit_failed_run(job: str) -> str | None:
    if not load_settings().cloudwatch_metrics:
        return None
    line = emf.failed_run_line(job=job, timestamp_ms=int(time.time() * 1000))
    print(line, file=sys.stdout, flush=True)
    return line
