"""Bulk loading for tests and `hspc emulate`: opportunities, solutions and invitations, no events.

```
{"opportunities": [{"Catalog": "AWS", "Customer": {...}, "LifeCycle": {...}, "Project": {...},
                    "LastModifiedDate": "2025-01-01T00:00:00Z", "Solutions": ["S-0000001"]}],
 "solutions": [{"Name": "...", "Category": "Software Product", "Status": "Active"}],
 "invitations": [{"Catalog": "AWS", "Payload": {...OpportunityInvitationPayload...},
                  "CustomerContacts": [...]}]}
```
Opportunities are checked against CreateOpportunity's input shape (minus ClientToken), so seeded
data is data the real API could hold.
"""

from __future__ import annotations

from typing import Any

from . import model
from .context import Context
from .errors import ApiError
from .ops_opportunities import new_opportunity
from .validation import _to_datetime, convert, field_errors

EXTRA_KEYS = ("LastModifiedDate", "CreatedDate", "Solutions", "Catalog", "Origin")


def _opportunity(ctx: Context, item: dict[str, Any]) -> str:
    store = ctx.store(item.get("Catalog", "AWS"))
    shape = model.operation("CreateOpportunity").input_shape
    assert shape is not None
    fields = {k: v for k, v in item.items() if k not in EXTRA_KEYS}
    params = convert({**fields, "Catalog": store.catalog, "ClientToken": "seed"}, shape)
    errors = field_errors(params, shape)
    if errors:
        raise ApiError(
            "ValidationException",
            f"seed opportunity is not valid: {errors}",
            Reason="REQUEST_VALIDATION_FAILED",
            ErrorList=errors,
        )
    record = new_opportunity(ctx, store, params, item.get("Origin", "Partner Referral"), publish=False)
    for key in ("CreatedDate", "LastModifiedDate"):
        if item.get(key):
            record[key] = _to_datetime(item[key])
    for solution in item.get("Solutions") or []:
        record["RelatedEntityIdentifiers"]["Solutions"].append(solution)
    return str(record["Id"])


def _solution(ctx: Context, item: dict[str, Any]) -> str:
    store = ctx.store(item.get("Catalog", "AWS"))
    solution_id = item.get("Id") or ctx.ids.solution()
    store.solutions[solution_id] = {
        "Catalog": store.catalog,
        "Id": solution_id,
        "Arn": solution_id,
        "Name": item.get("Name", f"Solution {solution_id}"),
        "Status": item.get("Status", "Active"),
        "Category": item.get("Category", "Software Product"),
        "CreatedDate": _to_datetime(item["CreatedDate"]) if item.get("CreatedDate") else ctx.clock.tick(),
        **(
            {"AwsMarketplaceSolutionArn": item["AwsMarketplaceSolutionArn"]}
            if item.get("AwsMarketplaceSolutionArn")
            else {}
        ),
    }
    return str(solution_id)


def load(ctx: Context, payload: dict[str, Any], emulator: Any = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"solutions": [], "opportunities": [], "invitations": []}
    for item in payload.get("solutions") or []:
        out["solutions"].append(_solution(ctx, item))
    for item in payload.get("opportunities") or []:
        out["opportunities"].append(_opportunity(ctx, item))
    for item in payload.get("invitations") or []:
        if emulator is None:
            raise ValueError("invitations are seeded through the emulator")
        out["invitations"].append(
            emulator.send_invitation(
                item.get("Payload"),
                catalog=item.get("Catalog", "AWS"),
                customer_contacts=item.get("CustomerContacts"),
            )
        )
    return out
