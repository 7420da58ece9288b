"""Data shapes shared with the other packages (see docs/contracts.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

Properties: TypeAlias = Mapping[str, str | None]
# The dict GetOpportunity returns (botocore shape, ResponseMetadata removed); also a request body.
Opportunity: TypeAlias = Mapping[str, Any]


@dataclass(frozen=True)
class DealBundle:
    """A deal with its primary company and its contacts, as HubSpot returns their properties."""

    deal_id: str
    deal: Properties
    company: Properties | None = None
    contacts: Sequence[Properties] = field(default_factory=tuple)


@dataclass(frozen=True)
class NewDeal:
    """Properties for a deal (and its company and contacts) to create from an AWS opportunity."""

    deal: dict[str, str | None]
    company: dict[str, str | None]
    contacts: list[dict[str, str | None]]
