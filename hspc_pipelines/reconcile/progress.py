"""What a person sees while a run works: one line per step (with the time left once the plan says how
many Partner Central writes are ahead), the rows planned, the writes done against the daily quota,
and a failed step's error in one line. `Progress` is a Dagster event listener, so `hspc run` and
`hspc sync` (any job run in this process) share it: `run_with_progress`.

Dagster's full event log stays out of the terminal unless asked (`--verbose`); it is always stored in
the instance (the UI shows it)."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import dagster as dg

from hspc_pipelines.mapping.vocabulary import Operation

# Plan operations that cost a Partner Central write each (a create may add solution associations).
WRITING_OPERATIONS = (Operation.CREATE.value, Operation.UPDATE.value)
# Run config that keeps Dagster's console logger quiet but for a crash of Dagster itself.
QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _value(metadata: Mapping[str, Any], key: str, default: Any = None) -> Any:
    entry = metadata.get(key)
    return default if entry is None else getattr(entry, "value", entry)


def _seconds(seconds: float) -> str:
    if 0 < seconds < 1:
        return "under a second"
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


@dataclass
class Progress:
    """Prints to `out` as the run's events arrive. `steps` is the job's steps in order (for `[2/7]`)."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    steps: Sequence[str] = ()
    writes_per_second: float = 1.0
    writes_per_day: int = 10_000
    clock: Callable[[], float] = time.monotonic
    writes_planned: int | None = None
    writes_done: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[tuple[str, Any]] = field(default_factory=list)  # (step, SerializableErrorInfo)
    figures: dict[str, Any] = field(default_factory=dict)
    _started: dict[str, float] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def __call__(self, entry: Any) -> None:
        event = getattr(entry, "dagster_event", None)
        if event is None or not event.step_key:
            return
        step = str(event.step_key).split("[")[0]
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self._started[step] = self.clock()
            self.say(f"{self._position(step)}{step}{self._time_left()}")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            data = event.step_materialization_data
            # A range run materializes each asset once per day, with the same step figures: the first.
            if (
                data is not None
                and data.materialization.asset_key.path[-1] == step
                and step not in self._seen
            ):
                self._seen.add(step)
                self._materialized(step, data.materialization.metadata)
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error if event.step_failure_data else None
            line = error_line(step, error)
            self.failures.append(line)
            self.errors.append((step, error))
            self.say(f"    FAILED: {line}")
        elif kind == dg.DagsterEventType.STEP_SUCCESS and step in self._started:
            self.say(f"    done in {self.clock() - self._started[step]:.1f} s")

    def _position(self, step: str) -> str:
        if step in self.steps:
            return f"[{list(self.steps).index(step) + 1}/{len(self.steps)}] "
        return "- "

    def _time_left(self) -> str:
        if self.writes_planned is None:
            return ""
        left = max(0, self.writes_planned - self.writes_done)
        if not left:
            return ""
        eta = _seconds(left / self.writes_per_second)
        return (
            f"  ({left} Partner Central writes to go: {eta if eta.startswith('under') else 'about ' + eta})"
        )

    def _quota(self, writes: int) -> str:
        return f"{writes:,} of {self.writes_per_day:,} Partner Central writes a day ({writes / self.writes_per_day:.1%})"

    def _materialized(self, step: str, metadata: Mapping[str, Any]) -> None:
        rows = _value(metadata, "dagster/row_count", 0)
        self.writes_done += int(_value(metadata, "step_writes_partner_central", 0) or 0)
        if step == "sync_plan":
            ops: dict[str, int] = _value(metadata, "operations", {}) or {}
            self.writes_planned = sum(n for op, n in ops.items() if op in WRITING_OPERATIONS)
            detail = ", ".join(f"{n} {op}" for op, n in ops.items()) or "nothing to do"
            self.say(f"    {rows} rows planned: {detail}")
            if self.writes_planned:
                self.say(f"    writes ahead: {self._quota(self.writes_planned)}")
        elif step in ("opportunity_creates", "opportunity_updates"):
            statuses: dict[str, int] = _value(metadata, "statuses", {}) or {}
            detail = ", ".join(f"{n} {s}" for s, n in statuses.items()) or "nothing to apply"
            self.say(f"    {detail}; writes so far: {self._quota(self.writes_done)}")
        elif step == "hubspot_deal_writes":
            self.figures = {k: _value(metadata, k) for k in metadata}
            written = _value(metadata, "deal_writes", 0)
            self.say(f"    {written} deals written back to HubSpot")
        else:
            self.say(f"    {rows} rows")

    def summary_lines(self) -> list[str]:
        """The run's figures (from `hubspot_deal_writes`), for the summary after the run."""
        f = self.figures
        if not f:
            return []
        return [
            "\nFigures",
            f"  API calls     HubSpot {f.get('api_calls_hubspot', 0)}, Partner Central "
            f"{f.get('api_calls_partner_central', 0)} (throttled {f.get('throttled_calls', 0)})",
            f"  Quota         {self._quota(int(f.get('partner_central_writes', 0) or 0))}",
            f"  Duration      {_seconds(float(f.get('run_duration_seconds', 0) or 0))}",
        ]


# -- errors a person can act on -----------------------------------------------------------------

_HINTS: tuple[tuple[str, str, str], ...] = (
    # (error class, text in the message, what to do)
    ("TokenRequestError", "", "HubSpot gave no client-credentials token: check HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (docs/hubspot-app.md)"),
    ("HubSpotError", "HTTP 401", "HubSpot refused the access token: set HUBSPOT_ACCESS_TOKEN to a valid private app token"),
    ("HubSpotError", "HTTP 403", "the HubSpot token lacks a scope: give the private app the CRM scopes (README)"),
    ("HubSpotError", "no response", "HubSpot is unreachable: check the network and HUBSPOT_BASE_URL"),
    ("DagsterInvalidConfigError", "access token missing", "no HubSpot token: set HUBSPOT_ACCESS_TOKEN or HSPC_HUBSPOT_TOKEN_SSM_PARAMETER"),
    ("DagsterInvalidConfigError", "client credentials missing", "set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (docs/hubspot-app.md)"),
    ("EndpointConnectionError", "", "Partner Central is unreachable: check the network and AWS_REGION"),
    ("ConnectTimeoutError", "", "Partner Central is unreachable: check the network and AWS_REGION"),
    ("NoCredentialsError", "", "no AWS credentials: set AWS_PROFILE or the task role"),
    ("MappingConfigError", "", "the mapping file (HSPC_MAPPING_CONFIG) is wrong"),
)  # fmt: skip


def _root(error: Any) -> Any:
    """The user-code error under Dagster's wrappers (`cause` chain)."""
    while (
        error is not None
        and getattr(error, "cause", None) is not None
        and str(getattr(error, "cls_name", "")).startswith("Dagster")
        and error.cls_name != "DagsterInvalidConfigError"
    ):
        error = error.cause
    return error


def error_line(step: str, error: Any) -> str:
    """One line: the step, what to do when we know, then the error's own first line."""
    root = _root(error)
    if root is None:
        return f"{step} failed"
    cls_name = str(getattr(root, "cls_name", "") or "")
    message = str(getattr(root, "message", "") or "").strip().splitlines()
    first = message[0] if message else cls_name
    if cls_name and not first.startswith(cls_name):
        first = f"{cls_name}: {first}"
    for name, text, hint in _HINTS:
        if (cls_name == name or first.startswith(name) or name in first) and text in first:
            return f"{step}: {hint} ({first})"
    return f"{step}: {first}"


def tracebacks(progress: Progress) -> str:
    """Each failed step's full error with its stack and causes (what --verbose adds)."""
    return "\n".join(
        f"Traceback of {step}:\n{error.to_string() if hasattr(error, 'to_string') else error}"
        for step, error in progress.errors
    )


def run_with_progress(instance: dg.DagsterInstance, run: Callable[[str], Any], progress: Progress) -> Any:
    """Call `run(run_id)` (which must start the run with that id) with `progress` listening."""
    run_id = str(uuid.uuid4())  # what Dagster's own run ids are
    instance.add_event_listener(run_id, progress)
    return run(run_id)
