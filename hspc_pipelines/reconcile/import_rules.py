"""Which opportunities created in Partner Central become HubSpot deals, and the request that links
one back to its deal. Pure.

An opportunity is imported when nothing links it to HubSpot yet: its PartnerOpportunityIdentifier
does not carry `partner_opportunity_prefix`, it did not come from an invitation (those have their
own flow, `cosell/invitations`), no deal is paired with it in the plan, and it was created on or
after `import_since` (so turning hspc on does not import years of history unless asked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hspc_pipelines.mapping import MappingConfig, model
from hspc_pipelines.mapping.create import partner_opportunity_identifier
from hspc_pipelines.mapping.values import dig, string_member
from hspc_pipelines.mapping.vocabulary import LOCKED_REVIEW_STATUSES

# Opportunities AWS refers arrive as invitations; the invitation flow makes their deals.
AWS_ORIGIN: Final = "AWS Referral"


@dataclass(frozen=True)
class ImportRow:
    """What the import did with one opportunity: `created`, `linked` (a deal already carried it),
    `failed`; `pc_linked` says whether the opportunity now carries the deal's identifier."""

    opportunity_id: str
    status: str
    deal_id: str | None = None
    pc_linked: bool = False
    reason: str | None = None


def _created_day(record: Mapping[str, Any]) -> str | None:
    value = record.get("CreatedDate")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, str) and len(value) >= 10:
        return value[:10]
    return None


def import_candidates(
    records: Iterable[Mapping[str, Any]],
    paired: Collection[str],
    from_invitations: Collection[str],
    config: MappingConfig,
    since: str,
) -> list[Mapping[str, Any]]:
    """The records to import: see the module's docstring. `paired` are the opportunity ids the plan
    matched with a deal; `since` is `config.import_since` or the state store's first day."""
    if not config.import_opportunities:
        return []
    out = []
    for record in records:
        opp_id = str(record.get("Id") or "")
        ident = str(record.get("PartnerOpportunityIdentifier") or "")
        created = _created_day(record)
        if (
            not opp_id
            or opp_id in paired
            or opp_id in from_invitations
            or ident.startswith(config.partner_opportunity_prefix)
            or record.get("Origin") == AWS_ORIGIN
            or created is None
            or created < since
        ):
            continue
        out.append(record)
    return out


def link_request(
    record: Mapping[str, Any], deal_id: str, config: MappingConfig, catalog: str
) -> dict[str, Any] | None:
    """The UpdateOpportunity that writes the deal's identifier onto the opportunity (the full record,
    as ACE wants it), or None while ACE refuses updates (under review: the deal's
    `aws_opportunity_id` links them meanwhile, and the pair's next update carries the identifier)."""
    review = string_member(dig(record, "LifeCycle", "ReviewStatus"))
    if review in LOCKED_REVIEW_STATUSES:
        return None
    request: dict[str, Any] = model.project_input(record, "UpdateOpportunity") or {}
    request.update(
        {
            "Catalog": catalog,
            "Identifier": str(record["Id"]),
            "LastModifiedDate": record["LastModifiedDate"],
            "PartnerOpportunityIdentifier": partner_opportunity_identifier(deal_id, config),
        }
    )
    return request
