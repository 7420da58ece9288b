"""The webhooks journal's read endpoints, version 2026-03, global (`journal`) and per account
(`journal-local`, `installPortalId`): earliest, latest, next after an offset, their batch forms and
batch read by offsets (docs/webhooks-journal.md has the reference pages each follows).

Behaviour the reference leaves open, chosen here and said in the docs: an empty journal answers 404
to earliest/latest, and `next` after the newest entry answers 204 with no body.
"""

from __future__ import annotations

import uuid
from typing import Any

from .errors import ApiError, bad_request, not_found
from .journal import Entry, entry_reply
from .routing import Call, Reply, Router
from .state import State
from .timeutil import iso_ms, now_ms

VERSION = "2026-03"
BATCH_MAX = 100  # batch read: "up to 100 per request"; batch earliest/latest: count 1..100


def _portal(call: Call) -> int | None:
    raw = call.query.get("installPortalId")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise bad_request(f"installPortalId must be an integer, got {raw!r}")
    return int(raw)


def _entries(state: State, call: Call) -> tuple[list[Entry], int]:
    now = now_ms()
    return state.journal.live(now, _portal(call)), now


def _host(call: Call) -> str:
    return call.headers.get("host", "127.0.0.1")


def _one(state: State, call: Call, entry: Entry | None, now: int) -> Reply:
    if entry is None:
        raise not_found("The journal has no entries for this app")
    return Reply(200, entry_reply(entry, _host(call), now))


def earliest(state: State, call: Call) -> Reply:
    entries, now = _entries(state, call)
    return _one(state, call, entries[0] if entries else None, now)


def latest(state: State, call: Call) -> Reply:
    entries, now = _entries(state, call)
    return _one(state, call, entries[-1] if entries else None, now)


def _uuid(value: Any, where: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise bad_request(f"{where} must be a UUID (a currentOffset), got {str(value)[:60]!r}") from None


def next_entry(state: State, call: Call) -> Reply:
    offset = _uuid(call.params["offset"], "offset")
    entries, now = _entries(state, call)
    positions = {e.offset: i for i, e in enumerate(entries)}
    if offset not in positions:
        raise not_found(f"Offset {offset} has expired or does not exist", context={"offset": [offset]})
    at = positions[offset] + 1
    if at == len(entries):
        return Reply(204)
    return Reply(200, entry_reply(entries[at], _host(call), now))


def _count(call: Call) -> int:
    raw = call.params["count"]
    if not raw.isdigit() or not 1 <= int(raw) <= BATCH_MAX:
        raise bad_request(f"count must be a whole number from 1 to {BATCH_MAX}, got {raw!r}")
    return int(raw)


def _batch(results: list[dict[str, Any]], errors: list[dict[str, Any]], started: int) -> Reply:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": iso_ms(started),
        "startedAt": iso_ms(started),
        "completedAt": iso_ms(now_ms()),
    }
    if errors:
        body |= {"errors": errors, "numErrors": len(errors)}
    return Reply(207 if errors else 200, body)


def batch_earliest(state: State, call: Call) -> Reply:
    count = _count(call)
    entries, now = _entries(state, call)
    return _batch([entry_reply(e, _host(call), now) for e in entries[:count]], [], now)


def batch_latest(state: State, call: Call) -> Reply:
    count = _count(call)
    entries, now = _entries(state, call)
    return _batch([entry_reply(e, _host(call), now) for e in entries[-count:]], [], now)


def batch_read(state: State, call: Call) -> Reply:
    inputs = call.json_object().get("inputs")
    if not isinstance(inputs, list):
        raise bad_request("inputs must be a list of offsets (UUIDs)")
    if len(inputs) > BATCH_MAX:
        raise ApiError(400, f"inputs holds {len(inputs)} offsets; at most {BATCH_MAX} per request")
    offsets = [_uuid(o, f"inputs[{i}]") for i, o in enumerate(inputs)]
    entries, now = _entries(state, call)
    by_offset = {e.offset: e for e in entries}
    results, errors = [], []
    for offset in offsets:
        entry = by_offset.get(offset)
        if entry is None:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"No journal entry with offset {offset}",
                    "context": {"offset": [offset]},
                }
            )
        else:
            results.append(entry_reply(entry, _host(call), now))
    return _batch(results, errors, now)


def register(router: Router) -> None:
    for kind in ("journal", "journal-local"):
        base = f"/webhooks-journal/{kind}/{VERSION}"
        router.add("GET", f"{base}/earliest", earliest)
        router.add("GET", f"{base}/latest", latest)
        router.add("GET", f"{base}/offset/{{offset}}/next", next_entry)
        router.add("GET", f"{base}/batch/earliest/{{count}}", batch_earliest)
        router.add("GET", f"{base}/batch/latest/{{count}}", batch_latest)
        router.add("POST", f"{base}/batch/read", batch_read)
