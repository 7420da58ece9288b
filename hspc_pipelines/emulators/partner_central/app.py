"""PartnerCentralEmulator: the ASGI app and the gate every API call passes.

Order per call: control routes aside; operation from X-Amz-Target; Authorization present (no
SigV4 check) and not in denied mode; due timers; injected faults; quotas; JSON body; validation
against botocore's model; then the handler under one lock, ClientToken idempotency, and the
answer projected onto the operation's output shape. Handlers are synchronous and quick.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .. import _server
from . import aws_side, control, model, ops_engagements, ops_opportunities, protocol, seeding
from .context import Context, Handler, Scheduler
from .errors import ApiError
from .events import EventPublisher, EventSink
from .faults import FaultInjector, fault_error
from .quotas import DAY_SECONDS, WRITE_OPERATIONS, Quotas
from .store import Ids
from .validation import validate_input

HANDLERS: dict[str, Handler] = {**ops_opportunities.HANDLERS, **ops_engagements.HANDLERS}
IDEMPOTENT = frozenset(
    op for op in HANDLERS if "ClientToken" in getattr(model.operation(op).input_shape, "members", {})
)
_HEADERS = {"content-type": protocol.CONTENT_TYPE.decode()}


class PartnerCentralEmulator:
    """In-memory Partner Central Selling API speaking AWS JSON 1.0; `.app` is the ASGI application."""

    def __init__(
        self,
        reads_per_second: float | None = None,
        writes_per_second: float | None = None,
        reads_per_day: int | None = None,
        writes_per_day: int | None = None,
        quota_window_seconds: float = DAY_SECONDS,
        event_sink: EventSink | None = None,
        task_delay_seconds: float = 0.0,
        denied: bool | Iterable[str] = False,
        account_id: str = "111122223333",
        region: str = "us-east-1",
        seed: int = 0,
    ) -> None:
        self.lock = threading.RLock()
        self.account_id = account_id
        self.region = region
        self.quotas = Quotas(
            reads_per_second, writes_per_second, reads_per_day, writes_per_day, quota_window_seconds
        )
        self.faults = FaultInjector()
        self.events = EventPublisher(event_sink, region, account_id)
        self.ctx = Context(
            ids=Ids(account_id, region, seed),
            events=self.events,
            scheduler=Scheduler(self.lock),
            task_delay_seconds=task_delay_seconds,
        )
        self.set_denied(denied)
        self._calls: Counter[str] = Counter()
        # wall-clock times of the first and last write call: the window a sustained write rate is
        # measured over (benchmarks)
        self._write_window: tuple[float, float] | None = None
        self._errors: Counter[str] = Counter()
        self._errors_by_operation: Counter[tuple[str, str]] = Counter()
        self.app = self  # the emulator object is itself the ASGI callable

    # Python control API (the same as /_emulator/*) ---------------------------------------------------
    @property
    def task_delay_seconds(self) -> float:
        return self.ctx.task_delay_seconds

    def configure(self, **options: Any) -> dict[str, Any]:
        """Change quotas (`reads_per_second`, `writes_per_second`, `reads_per_day`, `writes_per_day`,
        `quota_window_seconds`), `task_delay_seconds` or `denied`."""
        with self.lock:
            limits = self.quotas.limits()
            if "reads_per_second" in options or "writes_per_second" in options:
                self.quotas.configure(
                    options.get("reads_per_second", limits["read"]),
                    options.get("writes_per_second", limits["write"]),
                )
            if {"reads_per_day", "writes_per_day", "quota_window_seconds"} & options.keys():
                daily = self.quotas.daily_limits()
                self.quotas.configure_daily(
                    options.get("reads_per_day", daily["read"]),
                    options.get("writes_per_day", daily["write"]),
                    float(options.get("quota_window_seconds", self.quotas.window)),
                )
            if "task_delay_seconds" in options:
                self.ctx.task_delay_seconds = float(options["task_delay_seconds"])
            if "denied" in options:
                self.set_denied(options["denied"])
            return self.config()

    def config(self) -> dict[str, Any]:
        limits, daily = self.quotas.limits(), self.quotas.daily_limits()
        denied = self.denied if isinstance(self.denied, bool) else sorted(self.denied)
        return {
            "reads_per_second": limits["read"],
            "writes_per_second": limits["write"],
            "reads_per_day": daily["read"],
            "writes_per_day": daily["write"],
            "quota_window_seconds": self.quotas.window,
            "task_delay_seconds": self.ctx.task_delay_seconds,
            "denied": denied,
        }

    def set_denied(self, denied: bool | Iterable[str]) -> None:
        """True refuses every call (a role without permissions); a list refuses just those operations."""
        self.denied: bool | frozenset[str] = denied if isinstance(denied, bool) else frozenset(denied)

    def spend_quota(self, reads: int = 0, writes: int = 0) -> dict[str, int]:
        """Another integration spends `reads` and `writes` of the account's 24-hour quotas now."""
        with self.lock:
            self.quotas.spend(reads, writes)
            return self.quotas.used()

    def reset(self) -> None:
        """Forget all data, counters, spent quota, faults and pending timers (limits and config stay)."""
        with self.lock:
            self.quotas.reset()
            self.ctx.scheduler.clear()
            self.ctx.reset_stores()
            self.faults.clear()
            self.faults.injected.clear()
            self.events.published.clear()
            self.reset_stats()

    def seed(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Load opportunities, solutions and invitations (see `seeding.load`)."""
        with self.lock:
            return seeding.load(self.ctx, payload, self)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            by_op: dict[str, dict[str, int]] = {}
            for (op, code), n in self._errors_by_operation.items():
                by_op.setdefault(op, {})[code] = n
            return {
                "total": sum(self._calls.values()),
                "calls": dict(self._calls),
                "errors": dict(self._errors),
                "errors_by_operation": by_op,
                "faults_injected": dict(self.faults.injected),
                "events_published": len(self.events.published),
                "opportunities": {c: len(s.opportunities) for c, s in self.ctx.stores.items()},
                "write_window": list(self._write_window) if self._write_window else None,
                "quota_used": self.quotas.used(),
            }

    def reset_stats(self) -> None:
        with self.lock:
            self._calls.clear()
            self._write_window = None
            self._errors.clear()
            self._errors_by_operation.clear()

    def set_faults(self, spec: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """`set_faults(rate=0.1, kinds=[...], seed=1)` or `set_faults(schedule=[...])`; no arguments clears."""
        with self.lock:
            if spec is None and not kwargs:
                self.faults.clear()
            else:
                self.faults.configure({**(spec or {}), **kwargs})

    def published_events(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events.published)

    def flush_events(self, timeout: float = 10.0) -> bool:
        return self.events.flush(timeout)

    def close(self) -> None:
        self.ctx.scheduler.close()
        self.events.close()

    # AWS's side of the world lives in aws_side.py; bound here for the Python control API.
    send_invitation = aws_side.send_invitation
    review = aws_side.review
    set_summary = aws_side.set_summary
    publish_snapshot = aws_side.publish_snapshot
    close_lost = aws_side.close_lost

    # ASGI ---------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path.startswith("/_emulator/"):
            response = await control.handle(self, Request(scope, receive))
            await response(scope, receive, send)
            return
        status, body = await self._api(scope, receive)
        response = Response(body, status_code=status, headers=_HEADERS)
        await response(scope, receive, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _api(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        headers = dict(scope["headers"])
        operation = "Unknown"
        try:
            if scope["method"] != "POST" or scope["path"] not in ("/", ""):
                raise ApiError("UnknownOperationException", f"No route for {scope['method']} {scope['path']}")
            target = headers.get(b"x-amz-target")
            operation = protocol.operation_name(target.decode() if target else None)
            with self.lock:
                self._calls[operation] += 1
                if operation in WRITE_OPERATIONS:
                    now = time.time()
                    self._write_window = ((self._write_window or (now, now))[0], now)
            handler = HANDLERS.get(operation)
            if handler is None:
                raise ApiError(
                    "UnknownOperationException", f"Operation {operation} is not supported by the emulator"
                )
            self._authorize(operation, headers)
            self.ctx.scheduler.run_due()
            fault = self.faults.draw(operation)
            if fault == "slow":
                await asyncio.sleep(self.faults.delay_seconds)
            elif fault:
                raise fault_error(fault)
            with self.lock:
                self.quotas.check(operation)
            raw = protocol.parse_body(await self._read(receive))
            params = validate_input(operation, raw)
            with self.lock:
                result = self._run(operation, handler, raw, params)
            return 200, protocol.dumps(result)
        except ApiError as err:
            with self.lock:
                self._errors[err.code] += 1
                self._errors_by_operation[(operation, err.code)] += 1
            return err.status, protocol.dumps(err.body())

    def _authorize(self, operation: str, headers: dict[bytes, bytes]) -> None:
        if not headers.get(b"authorization"):
            raise ApiError(
                "AccessDeniedException", "Missing Authentication Token: the request must be signed"
            )
        if self.denied is True or (isinstance(self.denied, frozenset) and operation in self.denied):
            raise ApiError(
                "AccessDeniedException",
                f"User is not authorized to perform: partnercentral:{operation} on the requested catalog",
            )

    def _run(
        self, operation: str, handler: Handler, raw: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        store = self.ctx.store(params.get("Catalog", "AWS"))
        token = params.get("ClientToken") if operation in IDEMPOTENT else None
        if token is not None:
            body = protocol.canonical(raw)
            seen = store.client_tokens.get((operation, token))
            if seen is not None:
                if seen[0] != body:
                    raise ApiError(
                        "ConflictException", "Conflicting client token submitted for a new request body"
                    )
                return seen[1]
        result = model.output_view(operation, handler(self.ctx, store, params))
        if token is not None:
            store.client_tokens[(operation, token)] = (body, result)
        return result


def start_partner_central_emulator(
    host: str = "127.0.0.1", port: int | None = None, **kwargs: Any
) -> tuple[PartnerCentralEmulator, _server.RunningServer]:
    """Start an emulator on a loopback port; stop it with `server.stop()` (and `emulator.close()`)."""
    emulator = PartnerCentralEmulator(**kwargs)
    return emulator, _server.serve_in_thread(emulator.app, host=host, port=port)


__all__ = ["PartnerCentralEmulator", "start_partner_central_emulator"]
