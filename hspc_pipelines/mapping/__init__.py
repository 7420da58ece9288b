"""Pure mapping between HubSpot deals and Partner Central opportunities (no Dagster, no HTTP)."""

from .config import MappingConfig, MappingConfigError, load_mapping_config
from .cosell import is_cosell
from .create import build_create_request
from .errors import FieldError, MappingResult
from .reverse import opportunity_to_deal_properties, opportunity_to_new_deal
from .types import DealBundle, NewDeal, Opportunity
from .update import build_update_request
from .view import hubspot_owned_view

__all__ = [
    "DealBundle",
    "FieldError",
    "MappingConfig",
    "MappingConfigError",
    "MappingResult",
    "NewDeal",
    "Opportunity",
    "build_create_request",
    "build_update_request",
    "hubspot_owned_view",
    "is_cosell",
    "load_mapping_config",
    "opportunity_to_deal_properties",
    "opportunity_to_new_deal",
]
