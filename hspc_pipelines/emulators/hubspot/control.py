"""The `/_emulator/*` control API (no auth): reset, seed, stats, faults, config, webhook deliveries,
and the webhooks journal's files (pre-signed URLs need no token)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .errors import ApiError, error_body
from .journal import FILES_PATH
from .routing import Call, Reply
from .timeutil import now_ms

if TYPE_CHECKING:
    from .app import HubSpotEmulator


def _seed(emu: HubSpotEmulator, call: Call) -> Reply:
    return Reply(201, emu.seed(call.json_object()))


def _faults(emu: HubSpotEmulator, call: Call) -> Reply:
    if call.method == "POST":
        emu.set_faults(call.json_object())
    elif call.method == "DELETE":
        emu.set_faults(None)
    return Reply(200, emu.faults.describe())


def _config(emu: HubSpotEmulator, call: Call) -> Reply:
    if call.method == "POST":
        return Reply(200, emu.configure(**call.json_object()))
    return Reply(200, emu.config())


def _reset(emu: HubSpotEmulator, call: Call) -> Reply:
    emu.reset()
    return Reply(200, {"status": "reset"})


def _stats(emu: HubSpotEmulator, call: Call) -> Reply:
    return Reply(200, emu.stats())


def _stats_reset(emu: HubSpotEmulator, call: Call) -> Reply:
    emu.reset_stats()
    return Reply(200, {"status": "reset"})


def _webhooks(emu: HubSpotEmulator, call: Call) -> Reply:
    if call.query.get("flush", "false").lower() == "true":
        emu.flush_webhooks()
    return Reply(200, {"deliveries": [asdict(d) for d in emu.webhooks.deliveries]})


ROUTES: dict[tuple[str, str], Any] = {
    ("POST", "/_emulator/reset"): _reset,
    ("POST", "/_emulator/seed"): _seed,
    ("GET", "/_emulator/stats"): _stats,
    ("POST", "/_emulator/stats/reset"): _stats_reset,
    ("GET", "/_emulator/faults"): _faults,
    ("POST", "/_emulator/faults"): _faults,
    ("DELETE", "/_emulator/faults"): _faults,
    ("GET", "/_emulator/config"): _config,
    ("POST", "/_emulator/config"): _config,
    ("GET", "/_emulator/webhooks"): _webhooks,
}


def _journal_file(emu: HubSpotEmulator, call: Call) -> Reply:
    """A journal entry's file at its pre-signed URL: no token (as S3's), refused once the URL expired
    (403, as S3 does) or the entry left the journal (404)."""
    offset = call.path[len(FILES_PATH) :]
    expires = call.query.get("expires", "")
    now = now_ms()
    if not expires.isdigit() or int(expires) < now:
        return Reply(403, {"Code": "AccessDenied", "Message": "Request has expired"})
    with emu.lock:
        entry = next((e for e in emu.state.journal.live(now) if e.offset == offset), None)
    if entry is None:
        return Reply(404, {"Code": "NoSuchKey", "Message": "The specified key does not exist."})
    return Reply(200, entry.file())


def handle(emu: HubSpotEmulator, call: Call) -> Reply:
    if call.method == "GET" and call.path.startswith(FILES_PATH):
        return _journal_file(emu, call)
    handler = ROUTES.get((call.method, call.path.rstrip("/")))
    if handler is None:
        return Reply(404, error_body(f"No control endpoint {call.method} {call.path}", "OBJECT_NOT_FOUND"))
    try:
        return handler(emu, call)  # type: ignore[no-any-return]
    except ApiError as exc:
        return Reply(exc.status, exc.body())
    except (TypeError, ValueError) as exc:
        return Reply(400, error_body(f"Bad control request: {exc}", "VALIDATION_ERROR"))
