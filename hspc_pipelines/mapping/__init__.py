"""Pure mapping between HubSpot deals and Partner Central opportunities (no Dagster, no HTTP)."""

from .config import MappingConfig, MappingConfigError, load_mapping_config
from .errors import FieldError, MappingResult
from .types import DealBundle, NewDeal, Opportunity

__all__ = [
    "DealBundle",
    "FieldError",
    "MappingConfig",
    "MappingConfigError",
    "MappingResult",
    "NewDeal",
    "Opportunity",
    "load_mapping_config",
]
