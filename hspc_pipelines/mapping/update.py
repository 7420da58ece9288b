"""deal + current opportunity → the full UpdateOpportunity record.

UpdateOpportunity replaces the whole record (a member left out becomes null), so the request is
the current record projected onto the operation's input shape (read-only and output-only members
dropped) with the fields HubSpot owns replaced by what the deal says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import model
from .build import OWNED_PATHS, Body, Path, build_body, owned_fields
from .config import MappingConfig
from .create import check_catalog, check_deal_id, create_request_from_body, partner_opportunity_identifier
from .errors import FieldError, MappingResult
from .guard import internal_error, result_guard
from .types import DealBundle
from .values import dig
from .view import owned_changes, owned_leaves, same_raw
from .vocabulary import OPPORTUNITY_ID, TitleFrozen, title_freeze

_OPPORTUNITY_ID = OPPORTUNITY_ID
_TITLE: Path = ("Project", "Title")


def _set(request: dict[str, Any], path: Path, value: Any) -> None:
    node = request
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = node[part] = {}
        node = child
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def _prune(node: dict[str, Any]) -> dict[str, Any]:
    """Drop structures left empty after fields were removed (an empty Address is not a value)."""
    for key in list(node):
        if isinstance(node[key], dict):
            _prune(node[key])
            if not node[key]:
                del node[key]
    return node


@result_guard
def build_update_request(
    bundle: DealBundle, current: Mapping[str, Any], config: MappingConfig, catalog: str
) -> MappingResult:
    return _update_request(bundle, current, config, catalog, None)[0]


def _update_request(
    bundle: DealBundle,
    current: Mapping[str, Any],
    config: MappingConfig,
    catalog: str,
    body: Body | None,
) -> tuple[MappingResult, TitleFrozen | None]:
    """`build_update_request`, and the title freeze it applied; `body` is `build_body(bundle, config)`
    when the caller already has it."""
    errors: list[FieldError] = []
    warnings: list[str] = []
    if not isinstance(current, Mapping):
        return MappingResult(
            None,
            [
                FieldError(
                    "opportunity", current, "not an opportunity record", "the dict GetOpportunity returns"
                )
            ],
            [],
        ), None
    ident = current.get("Id") or current.get("Identifier")
    if not isinstance(ident, str) or not _OPPORTUNITY_ID.fullmatch(ident):
        errors.append(
            FieldError("Id", ident, "the current opportunity has no usable id", "O followed by digits")
        )
    modified = current.get("LastModifiedDate")
    if modified is None:
        errors.append(
            FieldError(
                "LastModifiedDate",
                None,
                "required to update (optimistic locking)",
                "the value GetOpportunity returned",
            )
        )
    for problem in (check_deal_id(getattr(bundle, "deal_id", None), config), check_catalog(catalog)):
        if problem is not None:
            errors.append(problem)
    if body is None:
        body = build_body(bundle, config)
    warnings += body.warnings
    owned = owned_fields(config)
    for logical in owned:
        errors += body.errors.get(logical, [])
    if errors:
        return MappingResult(None, errors, warnings), None
    request: dict[str, Any] = model.project_input(current, "UpdateOpportunity") or {}
    request.update({"Catalog": catalog, "Identifier": ident, "LastModifiedDate": modified})
    for logical in owned:
        for path in OWNED_PATHS[logical]:
            _set(request, path, body.values.get(path))
    frozen = _freeze_title(request, current, warnings)
    if not request.get("PartnerOpportunityIdentifier"):
        request["PartnerOpportunityIdentifier"] = partner_opportunity_identifier(str(bundle.deal_id), config)
    _prune(request)
    problems = model.check_request(request, "UpdateOpportunity")
    if problems:
        return MappingResult(None, problems, warnings), frozen
    return MappingResult(request, [], warnings), frozen


@dataclass
class UpdatePlan:
    """What the sync plan needs to know about one linked pair.

    `errors` and `warnings` are `build_update_request`'s; `changed` is the diff of the HubSpot-owned
    views of the current record and of that request (empty when nothing HubSpot owns differs);
    `request` is the request when something changed (None otherwise: nothing to send);
    `wanted_title` is the title a create request would carry (for the "title blocked" note), only
    computed when the title was frozen (`title_frozen`, whose text is also in `warnings`)."""

    errors: list[FieldError]
    warnings: list[str]
    request: dict[str, Any] | None = None
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    wanted_title: str | None = None
    # its text is in `warnings` already: two plans with the same warnings are the same plan
    title_frozen: TitleFrozen | None = field(default=None, compare=False)


def plan_update(
    bundle: DealBundle,
    current: Mapping[str, Any],
    config: MappingConfig,
    catalog: str,
    body: Body | None = None,
) -> UpdatePlan:
    """`build_update_request` and the view diff, for the sync plan, with the deal mapped once.

    Same answers as `build_update_request`, then `diff_views(hubspot_owned_view(current),
    hubspot_owned_view(request))` and, for a frozen title, `build_create_request`. A pair whose
    HubSpot-owned members already hold the deal's values (the usual case) is recognised on the raw
    values, and the request it would send is checked without being built (`_unchanged`). `body` is
    `build_body(bundle, config)` when the caller mapped the deal already (it does not depend on
    `ownership`)."""
    try:
        if body is None:
            body = build_body(bundle, config)
        plan = _unchanged(bundle, current, config, catalog, body)
        if plan is None:
            plan = _full(bundle, current, config, catalog, body)
    except Exception as exc:  # noqa: BLE001 - the same promise as result_guard
        return UpdatePlan([internal_error(exc)], [])
    if not plan.errors and plan.title_frozen is not None:
        plan.wanted_title = _create_title(bundle, body, config, catalog)
    return plan


def _full(
    bundle: DealBundle, current: Mapping[str, Any], config: MappingConfig, catalog: str, body: Body
) -> UpdatePlan:
    result, frozen = _update_request(bundle, current, config, catalog, body)
    if result.request is None or result.errors:
        return UpdatePlan(list(result.errors), list(result.warnings), title_frozen=frozen)
    changed = owned_changes(current, result.request, config)
    return UpdatePlan(
        [], list(result.warnings), result.request if changed else None, changed, title_frozen=frozen
    )


def _unchanged(
    bundle: DealBundle, current: Mapping[str, Any], config: MappingConfig, catalog: str, body: Body
) -> UpdatePlan | None:
    """The plan of a pair whose HubSpot-owned members hold the deal's values, or None to take the
    full path (errors, changes, anything unusual).

    For such a pair the update request is the current record projected, with the top-level
    members `_update_request` sets: the owned members would be set to what they already are. Its
    view equals the record's, and `model.projected_valid` checks it without building it."""
    if type(current) is not dict:
        return None
    ident = current.get("Id") or current.get("Identifier")
    modified = current.get("LastModifiedDate")
    if not isinstance(ident, str) or not _OPPORTUNITY_ID.fullmatch(ident) or modified is None:
        return None
    deal_id = getattr(bundle, "deal_id", None)
    if check_deal_id(deal_id, config) is not None or check_catalog(catalog) is not None:
        return None
    owned = owned_fields(config)
    if any(body.errors.get(logical) for logical in owned):
        return None
    wanted = body.values
    warnings = list(body.warnings)
    # _freeze_title, on the request the full path would build
    status = dig(current, "LifeCycle", "ReviewStatus")
    old = dig(current, "Project", "Title")
    if not (status is None or type(status) is str) or not (old is None or type(old) is str):
        return None
    frozen = title_freeze(status, old, wanted.get(_TITLE)) if "title" in owned else None
    if frozen is not None:
        wanted = {**wanted, _TITLE: old}
        warnings.append(str(frozen))
    for path, value in owned_leaves(current, config):
        if not same_raw(value, wanted.get(path)):
            return None
    overrides = {"Catalog": catalog, "Identifier": ident, "LastModifiedDate": modified}
    identifier = {"PartnerOpportunityIdentifier": partner_opportunity_identifier(str(deal_id), config)}
    if not model.projected_valid(current, "UpdateOpportunity", overrides, identifier):
        return None
    return UpdatePlan([], warnings, title_frozen=frozen)


def _create_title(bundle: DealBundle, body: Body, config: MappingConfig, catalog: str) -> str | None:
    """`build_create_request(bundle).request["Project"]["Title"]`, reusing the deal's body."""
    try:
        created = create_request_from_body(bundle, body, config, catalog)
    except Exception:  # noqa: BLE001 - build_create_request would have answered with an error
        return None
    title = ((created.request or {}).get("Project") or {}).get("Title")
    return title if isinstance(title, str) else None


def _freeze_title(
    request: dict[str, Any], current: Mapping[str, Any], warnings: list[str]
) -> TitleFrozen | None:
    """ACE refuses a title change once the opportunity was submitted: keep the current title."""
    old = dig(current, "Project", "Title")
    frozen = title_freeze(dig(current, "LifeCycle", "ReviewStatus"), old, dig(request, "Project", "Title"))
    if frozen is not None:
        _set(request, _TITLE, old)
        warnings.append(str(frozen))
    return frozen
