"""deal + company + contacts → CreateOpportunity request."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from . import model
from .build import Body, build_body, nest
from .config import MappingConfig
from .errors import FieldError, MappingResult
from .guard import result_guard
from .types import DealBundle

_DEAL_ID = re.compile(r"[A-Za-z0-9_-]+")
PARTNER_ID_MAX = 64  # PartnerOpportunityIdentifier pattern (?s).{0,64}


def partner_opportunity_identifier(deal_id: str, config: MappingConfig) -> str:
    return f"{config.partner_opportunity_prefix}{deal_id}"


def check_deal_id(deal_id: object, config: MappingConfig) -> FieldError | None:
    limit = PARTNER_ID_MAX - len(config.partner_opportunity_prefix)
    if not isinstance(deal_id, str) or not _DEAL_ID.fullmatch(deal_id) or len(deal_id) > limit:
        return FieldError(
            "deal_id", deal_id, "not a usable deal id", f"1 to {limit} letters, digits, '-' or '_'"
        )
    return None


def client_token(deal_id: str, body: dict[str, Any]) -> str:
    """Same deal and same body → same token (a retried create is idempotent); a changed body gets
    a new token, since ACE refuses a reused token with a different body."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
    return f"hspc-{deal_id}-{digest}"


def check_catalog(catalog: object) -> FieldError | None:
    if not isinstance(catalog, str) or not model.matches(model.pattern("Catalog"), catalog):
        return FieldError("Catalog", catalog, "not a catalog name", "AWS or Sandbox")
    return None


@result_guard
def build_create_request(bundle: DealBundle, config: MappingConfig, catalog: str) -> MappingResult:
    """The full CreateOpportunity input, or every reason it cannot be built."""
    return create_request_from_body(bundle, build_body(bundle, config), config, catalog)


def create_request_from_body(
    bundle: DealBundle, body: Body, config: MappingConfig, catalog: str
) -> MappingResult:
    """`build_create_request` for a deal whose body (`build_body(bundle, config)`) is already built."""
    errors: list[FieldError] = []
    deal_id = getattr(bundle, "deal_id", None)
    for problem in (check_deal_id(deal_id, config), check_catalog(catalog)):
        if problem is not None:
            errors.append(problem)
    for field_errors in body.errors.values():
        errors += field_errors
    if errors:
        return MappingResult(None, errors, body.warnings)
    assert isinstance(deal_id, str)
    request: dict[str, Any] = {
        "Catalog": catalog,
        "Origin": config.origin,
        "OpportunityType": config.opportunity_type,
        "NationalSecurity": config.national_security,
        "PartnerOpportunityIdentifier": partner_opportunity_identifier(deal_id, config),
        **nest(body.values),
    }
    request["ClientToken"] = client_token(deal_id, request)
    problems = model.check_request(request, "CreateOpportunity")
    if problems:
        return MappingResult(None, problems, body.warnings)
    return MappingResult(request, [], body.warnings)
