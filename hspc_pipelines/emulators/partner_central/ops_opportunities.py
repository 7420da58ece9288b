"""Opportunity operations: Create, Update (whole record, optimistic lock), Get, List, Associate,
Disassociate, Submit, Assign, GetAwsOpportunitySummary."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import rules
from .context import Context
from .errors import ApiError, conflict, not_found
from .paging import page
from .store import CatalogStore

# Members the server owns: never taken from a Create/Update request.
SERVER_FIELDS = ("Catalog", "ClientToken", "Identifier", "LastModifiedDate", "Tags")
RELATED_TYPES = (
    "Solutions",
    "AwsProducts",
    "AwsMarketplaceOffers",
    "AwsMarketplaceOfferSets",
    "AwsMarketplaceSolutions",
    "AwsMarketplaceProducts",
)


def get_record(store: CatalogStore, identifier: str) -> dict[str, Any]:
    record = store.opportunities.get(identifier)
    if record is None:
        raise not_found("Opportunity", identifier)
    return record


def touch(
    ctx: Context, store: CatalogStore, record: dict[str, Any], detail_type: str = "Opportunity Updated"
) -> None:
    """Every write moves LastModifiedDate and tells EventBridge."""
    record["LastModifiedDate"] = ctx.clock.tick()
    from .events import opportunity_detail

    ctx.events.publish(detail_type, opportunity_detail(store.catalog, record["Id"]), [record["Arn"]])


def new_opportunity(
    ctx: Context, store: CatalogStore, fields: dict[str, Any], origin: str, publish: bool = True
) -> dict[str, Any]:
    """Insert a record (API create, invitation acceptance, or seed) with the server-owned members set."""
    opportunity_id = ctx.ids.opportunity()
    now = ctx.clock.tick()
    record = {k: copy.deepcopy(v) for k, v in fields.items() if k not in SERVER_FIELDS}
    lifecycle = dict(record.get("LifeCycle") or {})
    lifecycle.setdefault("ReviewStatus", "Pending Submission")
    record.update(
        Id=opportunity_id,
        Arn=ctx.arn(store.catalog, "opportunity", opportunity_id),
        Catalog=store.catalog,
        CreatedDate=now,
        LastModifiedDate=now,
        LifeCycle=lifecycle,
        Origin=record.get("Origin") or origin,
        RelatedEntityIdentifiers={t: [] for t in RELATED_TYPES},
        _submitted=lifecycle["ReviewStatus"] != "Pending Submission",
    )
    store.opportunities[opportunity_id] = record
    if not publish:
        return record
    from .events import opportunity_detail

    ctx.events.publish(
        "Opportunity Created", opportunity_detail(store.catalog, opportunity_id), [record["Arn"]]
    )
    return record


def create_opportunity(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    fields = dict(params)
    lifecycle = dict(fields.get("LifeCycle") or {})
    for key in rules.REVIEW_FIELDS:  # a new opportunity always starts unreviewed
        lifecycle.pop(key, None)
    fields["LifeCycle"] = lifecycle
    record = new_opportunity(ctx, store, fields, "Partner Referral")
    return {
        "Id": record["Id"],
        "PartnerOpportunityIdentifier": record.get("PartnerOpportunityIdentifier"),
        "LastModifiedDate": record["LastModifiedDate"],
    }


def update_opportunity(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = get_record(store, params["Identifier"])
    if params["LastModifiedDate"] != record["LastModifiedDate"]:
        raise conflict(
            f"Opportunity {record['Id']} was modified since the LastModifiedDate you sent; "
            "fetch it with GetOpportunity and retry with its current LastModifiedDate"
        )
    review = rules.requested_review(store.catalog, record, params)
    lifecycle = record.get("LifeCycle") or {}
    if review is not None and rules.review_status(record) in rules.READ_ONLY_STATUSES:
        # Sandbox review of a locked record: only AWS's fields move, the partner's stay frozen.
        record["LifeCycle"] = {**lifecycle, **{k: v for k, v in review.items()}}
        record["LifeCycle"] = {k: v for k, v in record["LifeCycle"].items() if v is not None}
        touch(ctx, store, record)
        return {"Id": record["Id"], "LastModifiedDate": record["LastModifiedDate"]}
    rules.check_updatable(record)
    rules.check_title(record, rules.dig(params, "Project", "Title"))
    replaced = {k: copy.deepcopy(v) for k, v in params.items() if k not in SERVER_FIELDS}
    new_lifecycle = dict(replaced.get("LifeCycle") or {})
    for key in rules.REVIEW_FIELDS:  # AWS's fields survive the whole-record replace
        value = (review or {}).get(key) if review is not None else lifecycle.get(key)
        if value is None:
            new_lifecycle.pop(key, None)
        else:
            new_lifecycle[key] = value
    replaced["LifeCycle"] = new_lifecycle
    for key in (
        "Id",
        "Arn",
        "Catalog",
        "CreatedDate",
        "RelatedEntityIdentifiers",
        "OpportunityTeam",
        "Origin",
        "_submitted",
    ):
        if key in record:
            replaced[key] = record[key]
    if review is not None and review.get("ReviewStatus") != "Pending Submission":
        replaced["_submitted"] = True
    store.opportunities[record["Id"]] = replaced
    touch(ctx, store, replaced)
    return {"Id": replaced["Id"], "LastModifiedDate": replaced["LastModifiedDate"]}


def get_opportunity(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    return get_record(store, params["Identifier"])


def _matches(record: dict[str, Any], params: dict[str, Any]) -> bool:
    modified = params.get("LastModifiedDate") or {}
    after, before = modified.get("AfterLastModifiedDate"), modified.get("BeforeLastModifiedDate")
    # After is inclusive and Before exclusive, so consecutive windows neither overlap nor leave gaps.
    if after is not None and record["LastModifiedDate"] < after:
        return False
    if before is not None and record["LastModifiedDate"] >= before:
        return False
    created = params.get("CreatedDate") or {}
    if created.get("AfterCreatedDate") is not None and record["CreatedDate"] < created["AfterCreatedDate"]:
        return False
    if created.get("BeforeCreatedDate") is not None and record["CreatedDate"] >= created["BeforeCreatedDate"]:
        return False
    close = params.get("TargetCloseDate") or {}
    target = rules.dig(record, "LifeCycle", "TargetCloseDate")
    if close.get("AfterTargetCloseDate") and (target is None or target < close["AfterTargetCloseDate"]):
        return False
    if close.get("BeforeTargetCloseDate") and (target is None or target >= close["BeforeTargetCloseDate"]):
        return False
    if params.get("Identifier") and record["Id"] not in params["Identifier"]:
        return False
    if (
        params.get("LifeCycleStage")
        and rules.dig(record, "LifeCycle", "Stage") not in params["LifeCycleStage"]
    ):
        return False
    if (
        params.get("LifeCycleReviewStatus")
        and rules.review_status(record) not in params["LifeCycleReviewStatus"]
    ):
        return False
    names = params.get("CustomerCompanyName")
    if names:
        company = (rules.dig(record, "Customer", "Account", "CompanyName") or "").casefold()
        if company not in {n.casefold() for n in names}:
            return False
    return True


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "LastModifiedDate": lambda r: r["LastModifiedDate"],
    "CreatedDate": lambda r: r["CreatedDate"],
    "Identifier": lambda r: int(r["Id"][1:]),
    "CustomerCompanyName": lambda r: rules.dig(r, "Customer", "Account", "CompanyName") or "",
    "TargetCloseDate": lambda r: rules.dig(r, "LifeCycle", "TargetCloseDate") or "",
}


def list_opportunities(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("Identifier"):
        candidates = [
            store.opportunities[i] for i in dict.fromkeys(params["Identifier"]) if i in store.opportunities
        ]
    else:
        candidates = list(store.opportunities.values())
    rows = [r for r in candidates if _matches(r, params)]
    sort = params.get("Sort") or {"SortBy": "LastModifiedDate", "SortOrder": "DESCENDING"}
    rows.sort(
        key=lambda r: (SORT_KEYS[sort["SortBy"]](r), int(r["Id"][1:])),
        reverse=sort["SortOrder"] == "DESCENDING",
    )
    return page(rows, params, 20, "OpportunitySummaries")


def associate_opportunity(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = get_record(store, params["OpportunityIdentifier"])
    kind, entity = params["RelatedEntityType"], params["RelatedEntityIdentifier"]
    related = record["RelatedEntityIdentifiers"].setdefault(kind, [])
    if kind == "Solutions" and entity not in store.solutions:
        raise not_found("Solution", entity)
    if entity in related:
        return {}
    if kind == "Solutions":
        rules.check_solution_quota(related)
    related.append(entity)
    touch(ctx, store, record)
    return {}


def disassociate_opportunity(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = get_record(store, params["OpportunityIdentifier"])
    kind, entity = params["RelatedEntityType"], params["RelatedEntityIdentifier"]
    related = record["RelatedEntityIdentifiers"].get(kind) or []
    if entity not in related:
        raise not_found(f"{kind} association", entity)
    related.remove(entity)
    touch(ctx, store, record)
    return {}


def mark_submitted(
    ctx: Context, store: CatalogStore, record: dict[str, Any], involvement: str, visibility: str | None
) -> None:
    """The opportunity goes to AWS: review starts, AWS's summary appears."""
    record["LifeCycle"] = {**(record.get("LifeCycle") or {}), "ReviewStatus": "Submitted"}
    record["_submitted"] = True
    summary = store.aws_summaries.setdefault(record["Id"], {})
    summary.update(InvolvementType=involvement, Visibility=visibility or "Full")
    touch(ctx, store, record)


def submit_opportunity(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = get_record(store, params["Identifier"])
    rules.check_submittable(record)
    mark_submitted(ctx, store, record, params["InvolvementType"], params.get("Visibility"))
    return {}


def assign_opportunity(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = get_record(store, params["Identifier"])
    record["OpportunityTeam"] = [copy.deepcopy(params["Assignee"])]
    touch(ctx, store, record)
    return {}


def get_aws_opportunity_summary(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    identifier = params["RelatedOpportunityIdentifier"]
    record = get_record(store, identifier)
    summary = store.aws_summaries.get(identifier)
    if summary is None:
        raise ApiError(
            "ResourceNotFoundException",
            f"No AWS opportunity summary exists for {identifier}: it has not been shared with AWS",
        )
    related = record.get("RelatedEntityIdentifiers") or {}
    out: dict[str, Any] = {
        "RelatedOpportunityId": identifier,
        "Catalog": store.catalog,
        "Origin": record.get("Origin", "Partner Referral"),
        "Project": {"ExpectedCustomerSpend": rules.dig(record, "Project", "ExpectedCustomerSpend") or []},
        "RelatedEntityIds": {k: related.get(k) or [] for k in ("Solutions", "AwsProducts")},
    }
    out.update(copy.deepcopy(summary))
    return out


HANDLERS = {
    "CreateOpportunity": create_opportunity,
    "UpdateOpportunity": update_opportunity,
    "GetOpportunity": get_opportunity,
    "ListOpportunities": list_opportunities,
    "AssociateOpportunity": associate_opportunity,
    "DisassociateOpportunity": disassociate_opportunity,
    "SubmitOpportunity": submit_opportunity,
    "AssignOpportunity": assign_opportunity,
    "GetAwsOpportunitySummary": get_aws_opportunity_summary,
}
