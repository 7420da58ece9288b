"""The `/_emulator/*` control API (plain JSON, no auth): state, stats, faults, config, AWS's actions.

POST reset | seed | stats/reset | invitations | opportunities/{id}/review | opportunities/{id}/summary
| opportunities/{id}/snapshots | engagements/{id}/snapshots | opportunities/{id}/close-lost;
GET stats | events | config | quota; GET/POST/DELETE faults; POST config; POST quota
(`{"reads": n, "writes": n}`: another integration spends the account's 24-hour quotas). `?catalog=Sandbox` (or
`"Catalog"` in the body) picks the catalog for the AWS-side actions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import protocol
from .errors import ApiError

if TYPE_CHECKING:
    from .app import PartnerCentralEmulator

Action = Callable[["PartnerCentralEmulator", dict[str, Any], str, dict[str, str]], Any]


def _json(body: Any, status: int = 200) -> Response:
    return Response(protocol.dumps(body), status_code=status, media_type="application/json")


def _catalog(body: dict[str, Any], query: dict[str, str]) -> str:
    return str(body.get("Catalog") or query.get("catalog") or "AWS")


def _faults(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    if method == "DELETE":
        emu.set_faults()
    elif method == "POST":
        emu.set_faults(body)
    return emu.faults.describe()


def _config(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    return emu.configure(**body) if method == "POST" else emu.config()


def _stats(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    return emu.stats()


def _quota(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    if method == "POST":
        return emu.spend_quota(int(body.get("reads", 0)), int(body.get("writes", 0)))
    return emu.quotas.used()


def _stats_reset(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    emu.reset_stats()
    return {"ok": True}


def _reset(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    emu.reset()
    return {"ok": True}


def _seed(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    return emu.seed(body)


def _events(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, _: dict[str, str]) -> Any:
    return {"events": emu.published_events()}


def _invitation(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, q: dict[str, str]) -> Any:
    invitation_id = emu.send_invitation(
        body.get("Payload"),
        catalog=_catalog(body, q),
        message=body.get("InvitationMessage"),
        customer_contacts=body.get("CustomerContacts"),
    )
    return {"Id": invitation_id}


def _review(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, q: dict[str, str]) -> Any:
    return emu.review(
        q["id"],
        body.get("ReviewStatus", ""),
        body.get("ReviewComments"),
        body.get("ReviewStatusReason"),
        catalog=_catalog(body, q),
    )


def _summary(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, q: dict[str, str]) -> Any:
    summary = {k: v for k, v in body.items() if k != "Catalog"}
    return emu.set_summary(q["id"], summary, catalog=_catalog(body, q))


def _snapshot(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, q: dict[str, str]) -> Any:
    template = body.get("Template", "AwsOpportunitySummaryFullView")
    catalog = _catalog(body, q)
    opportunity_id = q.get("id") or body.get("OpportunityId")
    if q.get("engagement"):
        store = emu.ctx.store(catalog)
        linked = [o for o, e in store.engagement_of.items() if e == q["engagement"]]
        if not opportunity_id and linked:
            opportunity_id = linked[0]
    if not opportunity_id:
        raise ApiError(
            "ValidationException", "which opportunity? send OpportunityId", Reason="REQUEST_VALIDATION_FAILED"
        )
    return emu.publish_snapshot(opportunity_id, catalog=catalog, template=template)


def _close_lost(emu: PartnerCentralEmulator, body: dict[str, Any], method: str, q: dict[str, str]) -> Any:
    return emu.close_lost(q["id"], body.get("ClosedLostReason", "Other"), catalog=_catalog(body, q))


ROUTES: list[tuple[frozenset[str], re.Pattern[str], Action]] = [
    (frozenset({"POST"}), re.compile(r"/_emulator/reset"), _reset),
    (frozenset({"POST"}), re.compile(r"/_emulator/seed"), _seed),
    (frozenset({"GET"}), re.compile(r"/_emulator/stats"), _stats),
    (frozenset({"POST"}), re.compile(r"/_emulator/stats/reset"), _stats_reset),
    (frozenset({"GET", "POST", "DELETE"}), re.compile(r"/_emulator/faults"), _faults),
    (frozenset({"GET", "POST"}), re.compile(r"/_emulator/config"), _config),
    (frozenset({"GET"}), re.compile(r"/_emulator/events"), _events),
    (frozenset({"GET", "POST"}), re.compile(r"/_emulator/quota"), _quota),
    (frozenset({"POST"}), re.compile(r"/_emulator/invitations"), _invitation),
    (frozenset({"POST"}), re.compile(r"/_emulator/opportunities/(?P<id>[^/]+)/review"), _review),
    (frozenset({"POST"}), re.compile(r"/_emulator/opportunities/(?P<id>[^/]+)/summary"), _summary),
    (frozenset({"POST"}), re.compile(r"/_emulator/opportunities/(?P<id>[^/]+)/snapshots"), _snapshot),
    (frozenset({"POST"}), re.compile(r"/_emulator/engagements/(?P<engagement>[^/]+)/snapshots"), _snapshot),
    (frozenset({"POST"}), re.compile(r"/_emulator/opportunities/(?P<id>[^/]+)/close-lost"), _close_lost),
]


async def handle(emu: PartnerCentralEmulator, request: Request) -> Response:
    path, method = request.url.path, request.method
    for methods, pattern, action in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if method not in methods:
            return JSONResponse({"message": f"{method} not allowed on {path}"}, status_code=405)
        raw = await request.body()
        try:
            body = protocol.parse_body(raw) if raw else {}
            params = {**request.query_params, **{k: v for k, v in match.groupdict().items() if v}}
            return _json(action(emu, body, method, params))
        except ApiError as err:
            return _json(err.body(), err.status)
        except ValueError as err:
            return _json({"__type": "ValidationException", "message": str(err)}, 400)
    return JSONResponse({"message": f"no control route {method} {path}"}, status_code=404)
