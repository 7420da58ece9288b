"""Which deals are co-sell deals."""

from __future__ import annotations

from collections.abc import Mapping

from .config import MappingConfig
from .text_fields import has_tag
from .values import get


def is_cosell(deal: Mapping[str, str | None], config: MappingConfig) -> bool:
    """The tag in the name, a configured property or pipeline rule, or already linked to AWS."""
    try:
        linked = get(deal, "aws_opportunity_id")
        if isinstance(linked, str) and linked.strip():
            return True
        name = get(deal, "dealname")
        if isinstance(name, str) and has_tag(name, config.cosell_tag):
            return True
        if config.cosell_property:
            value = get(deal, config.cosell_property)
            allowed = {v.casefold() for v in config.cosell_property_values}
            if isinstance(value, str) and value.strip().casefold() in allowed:
                return True
        pipeline = get(deal, "pipeline")
        return isinstance(pipeline, str) and pipeline in config.cosell_pipelines
    except Exception:  # never let a junk deal break selection: it is simply not co-sell
        return False
