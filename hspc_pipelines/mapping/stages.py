"""Deal stage ⇄ Partner Central stage, per HubSpot pipeline."""

from __future__ import annotations

from .config import MappingConfig
from .errors import FieldError


def pipeline_of(pipeline: object, config: MappingConfig) -> str:
    return pipeline.strip() if isinstance(pipeline, str) and pipeline.strip() else config.default_pipeline


def to_partner_central(stage: object, pipeline: object, config: MappingConfig) -> str | FieldError:
    """The Partner Central stage of a HubSpot stage id in its pipeline, or why there is none."""
    pipe = pipeline_of(pipeline, config)
    stages = config.stage_maps.get(pipe)
    if stages is None:
        return FieldError(
            "pipeline", pipeline, f"no stage map configured for pipeline {pipe!r}", sorted(config.stage_maps)
        )
    if not isinstance(stage, str) or not stage.strip():
        return FieldError("dealstage", stage, f"a deal stage is required (pipeline {pipe!r})", sorted(stages))
    mapped = stages.get(stage.strip())
    if mapped is None:
        return FieldError("dealstage", stage, f"stage not mapped in pipeline {pipe!r}", sorted(stages))
    return mapped


def to_hubspot(stage: object, pipeline: object, config: MappingConfig) -> str | None:
    """The HubSpot stage id for a Partner Central stage: the configured reverse entry, else the
    first HubSpot stage (in map order) that maps to it; None when the pipeline has none."""
    pipe = pipeline_of(pipeline, config)
    if not isinstance(stage, str):
        return None
    explicit = config.reverse_stage_maps.get(pipe, {}).get(stage)
    if explicit is not None:
        return explicit
    for hs_stage, pc_stage in config.stage_maps.get(pipe, {}).items():
        if pc_stage == stage:
            return hs_stage
    return None
