"""deal + current opportunity → the full UpdateOpportunity record.

UpdateOpportunity replaces the whole record (a member left out becomes null), so the request is
the current record projected onto the operation's input shape (read-only and output-only members
dropped) with the fields HubSpot owns replaced by what the deal says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import model
from .build import OWNED_PATHS, Path, build_body
from .config import MappingConfig
from .create import check_catalog, check_deal_id, partner_opportunity_identifier
from .errors import FieldError, MappingResult
from .guard import result_guard
from .types import DealBundle
from .values import dig

_OPPORTUNITY_ID = re.compile(r"O[0-9]{1,19}")
EDITABLE_REVIEW_STATUSES = frozenset({None, "Pending Submission"})  # title is frozen after these


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
        )
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
    body = build_body(bundle, config)
    warnings += body.warnings
    for logical in OWNED_PATHS:
        if config.hubspot_owns(logical):
            errors += body.errors.get(logical, [])
    if errors:
        return MappingResult(None, errors, warnings)
    request: dict[str, Any] = model.project(current, model.input_shape("UpdateOpportunity")) or {}
    request.update({"Catalog": catalog, "Identifier": ident, "LastModifiedDate": modified})
    for logical, paths in OWNED_PATHS.items():
        if not config.hubspot_owns(logical):
            continue
        for path in paths:
            _set(request, path, body.values.get(path))
    _freeze_title(request, current, warnings)
    if not request.get("PartnerOpportunityIdentifier"):
        request["PartnerOpportunityIdentifier"] = partner_opportunity_identifier(str(bundle.deal_id), config)
    _prune(request)
    problems = model.check_request(request, "UpdateOpportunity")
    if problems:
        return MappingResult(None, problems, warnings)
    return MappingResult(request, [], warnings)


def _freeze_title(request: dict[str, Any], current: Mapping[str, Any], warnings: list[str]) -> None:
    """ACE refuses a title change once the opportunity was submitted: keep the current title."""
    status = dig(current, "LifeCycle", "ReviewStatus")
    if status in EDITABLE_REVIEW_STATUSES:
        return
    old, new = dig(current, "Project", "Title"), dig(request, "Project", "Title")
    if new != old:
        _set(request, ("Project", "Title"), old)
        warnings.append(
            f"title_frozen: title {str(new)[:255]!r} not applied: the opportunity was submitted "
            f"(review status {status}); Partner Central keeps {str(old)[:255]!r}"
        )
