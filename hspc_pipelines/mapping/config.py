"""Mapping configuration: stage maps per pipeline, spend, co-sell rule, ownership, defaults.

Everything a deployment may want to change lives here and is loaded from a YAML or JSON file
(`load_mapping_config`), so changing a mapping never needs a code change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from . import model

ENV_VAR: Final = "HSPC_MAPPING_CONFIG"
HUBSPOT: Final = "hubspot"
PARTNER_CENTRAL: Final = "partner_central"
OWNERS: Final = (HUBSPOT, PARTNER_CENTRAL)

# The seed's table: HubSpot's default pipeline stage ids to Partner Central stages.
DEFAULT_STAGE_MAP: Final[Mapping[str, str]] = {
    "appointmentscheduled": "Prospect",
    "qualifiedtobuy": "Qualified",
    "presentationscheduled": "Technical Validation",
    "decisionmakerboughtin": "Business Validation",
    "contractsent": "Committed",
    "closedwon": "Launched",
    "closedlost": "Closed Lost",
}

# Fields either side may own (HubSpot by default) and fields only Partner Central can own.
SWAPPABLE_FIELDS: Final = (
    "title",
    "problem",
    "spend",
    "stage",
    "close_date",
    "customer",
    "contacts",
    "delivery_models",
    "primary_needs",
    "use_case",
)
PARTNER_CENTRAL_FIELDS: Final = ("review_status", "review_comments", "insights", "aws_team")
DEFAULT_OWNERSHIP: Final[Mapping[str, str]] = {
    **{f: HUBSPOT for f in SWAPPABLE_FIELDS},
    **{f: PARTNER_CENTRAL for f in PARTNER_CENTRAL_FIELDS},
}


class MappingConfigError(ValueError):
    """The configuration file is unreadable or names something that does not exist."""


@dataclass(frozen=True)
class MappingConfig:
    # pipeline id -> {HubSpot stage id -> Partner Central stage}
    stage_maps: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {"default": dict(DEFAULT_STAGE_MAP)}
    )
    # pipeline id -> {Partner Central stage -> HubSpot stage id}; missing entries: first forward match
    reverse_stage_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default_pipeline: str = "default"  # used when a deal has no pipeline and for invitation deals
    amount_mode: Literal["monthly", "total_contract"] = "monthly"
    contract_term_months: int = 12
    default_currency: str = "USD"
    # Co-sell selection: the tag in the deal name, a property rule, pipelines
    cosell_tag: str = "#AWS"
    cosell_property: str | None = None
    cosell_property_values: tuple[str, ...] = ("true", "yes", "1")
    cosell_pipelines: tuple[str, ...] = ()
    ownership: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_OWNERSHIP))
    origin: str = "Partner Referral"
    opportunity_type: str = "Net New Business"
    national_security: str = "No"
    primary_needs_default: tuple[str, ...] = ()
    target_company: str = "AWS"
    partner_opportunity_prefix: str = "HUBSPOT-"
    # HubSpot industry value or label -> Partner Central industry (wins over the built-in table)
    industry_overrides: Mapping[str, str] = field(default_factory=dict)
    # Time zone in which HubSpot date-times are read as calendar dates (close date)
    timezone: str = "UTC"
    max_contacts: int = 10

    @classmethod
    def default(cls) -> MappingConfig:
        return cls()

    def owner(self, logical_field: str) -> str:
        return self.ownership.get(logical_field, DEFAULT_OWNERSHIP.get(logical_field, HUBSPOT))

    def hubspot_owns(self, logical_field: str) -> bool:
        return self.owner(logical_field) == HUBSPOT


def load_mapping_config(path: str | None) -> MappingConfig:
    """Read a YAML or JSON file; `None` or "" gives the defaults. Unknown keys are refused."""
    if not path:
        return MappingConfig.default()
    try:
        text = Path(path).read_text(encoding="utf-8")
        raw = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise MappingConfigError(f"mapping config {path}: cannot read: {exc}") from exc
    return config_from_dict(raw or {}, source=path)


def config_from_dict(raw: Any, source: str = "<dict>") -> MappingConfig:
    try:
        return _config_from_dict(raw, source)
    except MappingConfigError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:  # wrong shapes in a hand-written file
        raise MappingConfigError(f"mapping config {source}: {exc}") from exc


def _config_from_dict(raw: Any, source: str) -> MappingConfig:
    if not isinstance(raw, Mapping):
        raise MappingConfigError(f"mapping config {source}: expected a mapping at the top level")
    known = {f.name for f in fields(MappingConfig)} | {"pipelines"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise MappingConfigError(f"mapping config {source}: unknown keys {unknown}; allowed: {sorted(known)}")
    base = MappingConfig.default()
    changes: dict[str, Any] = {}
    stage_maps = {k: dict(v) for k, v in base.stage_maps.items()}
    reverse_maps: dict[str, dict[str, str]] = {}
    # `pipelines: {id: {stages: {...}, reverse: {...}}}` is the friendly form of the two maps
    for pipeline, spec in (raw.get("pipelines") or {}).items():
        spec = spec or {}
        stage_maps[str(pipeline)] = {str(k): str(v) for k, v in (spec.get("stages") or {}).items()}
        if spec.get("reverse"):
            reverse_maps[str(pipeline)] = {str(k): str(v) for k, v in spec["reverse"].items()}
    for pipeline, stages in (raw.get("stage_maps") or {}).items():
        stage_maps[str(pipeline)] = {str(k): str(v) for k, v in stages.items()}
    for pipeline, rev in (raw.get("reverse_stage_maps") or {}).items():
        reverse_maps[str(pipeline)] = {str(k): str(v) for k, v in rev.items()}
    changes["stage_maps"] = stage_maps
    changes["reverse_stage_maps"] = reverse_maps
    for key in (
        "default_pipeline",
        "amount_mode",
        "default_currency",
        "cosell_tag",
        "cosell_property",
        "origin",
        "opportunity_type",
        "national_security",
        "target_company",
        "partner_opportunity_prefix",
        "timezone",
    ):
        if key in raw:
            changes[key] = None if raw[key] is None else str(raw[key])
    for key in ("contract_term_months", "max_contacts"):
        if key in raw:
            changes[key] = int(raw[key])
    for key in ("cosell_property_values", "cosell_pipelines", "primary_needs_default"):
        if key in raw:
            changes[key] = tuple(str(v) for v in (raw[key] or ()))
    if "ownership" in raw:
        changes["ownership"] = {**DEFAULT_OWNERSHIP, **{str(k): str(v) for k, v in raw["ownership"].items()}}
    if "industry_overrides" in raw:
        changes["industry_overrides"] = {str(k): str(v) for k, v in raw["industry_overrides"].items()}
    config = replace(base, **changes)
    problems = check_config(config)
    if problems:
        raise MappingConfigError(f"mapping config {source}: " + "; ".join(problems))
    return config


def check_config(config: MappingConfig) -> list[str]:
    """Every reason the configuration cannot work, so a deployment fails at start, not per deal."""
    problems: list[str] = []
    for pipeline, stages in config.stage_maps.items():
        for hs_stage, pc_stage in stages.items():
            if pc_stage not in model.STAGES:
                problems.append(
                    f"pipelines.{pipeline}: stage {hs_stage!r} maps to {pc_stage!r}, "
                    f"allowed: {list(model.STAGES)}"
                )
    for pipeline, rev in config.reverse_stage_maps.items():
        forward = config.stage_maps.get(pipeline)
        if forward is None:
            problems.append(
                f"reverse map for unknown pipeline {pipeline!r}; pipelines: {sorted(config.stage_maps)}"
            )
            continue
        for pc_stage, hs_stage in rev.items():
            if forward.get(hs_stage) != pc_stage:
                problems.append(
                    f"pipelines.{pipeline}.reverse: {pc_stage!r} -> {hs_stage!r}, but {hs_stage!r} "
                    f"maps to {forward.get(hs_stage)!r}"
                )
    if config.default_pipeline not in config.stage_maps:
        problems.append(
            f"default_pipeline {config.default_pipeline!r} has no stage map; "
            f"pipelines: {sorted(config.stage_maps)}"
        )
    if config.amount_mode not in ("monthly", "total_contract"):
        problems.append(f"amount_mode {config.amount_mode!r}; allowed: monthly, total_contract")
    if config.contract_term_months < 1:
        problems.append(f"contract_term_months {config.contract_term_months}; must be at least 1")
    checks = (
        ("default_currency", config.default_currency, model.CURRENCY_CODES),
        ("origin", config.origin, model.ORIGINS),
        ("opportunity_type", config.opportunity_type, model.OPPORTUNITY_TYPES),
        ("national_security", config.national_security, model.NATIONAL_SECURITY),
    )
    for name, value, allowed in checks:
        if value not in allowed:
            problems.append(f"{name} {value!r}; allowed: {list(allowed)}")
    problems += [
        f"primary_needs_default {v!r}; allowed: {list(model.PRIMARY_NEEDS)}"
        for v in config.primary_needs_default
        if v not in model.PRIMARY_NEEDS
    ]
    for name, owner in config.ownership.items():
        if name not in DEFAULT_OWNERSHIP:
            problems.append(f"ownership: unknown field {name!r}; fields: {list(DEFAULT_OWNERSHIP)}")
        elif owner not in OWNERS:
            problems.append(f"ownership.{name}: {owner!r}; allowed: {list(OWNERS)}")
        elif name in PARTNER_CENTRAL_FIELDS and owner != PARTNER_CENTRAL:
            problems.append(f"ownership.{name}: only partner_central can own it (HubSpot has no source)")
    problems += [
        f"industry_overrides.{k}: {v!r}; allowed: {list(model.INDUSTRIES)}"
        for k, v in config.industry_overrides.items()
        if v not in model.INDUSTRIES
    ]
    if not 1 <= config.max_contacts <= 10:
        problems.append(f"max_contacts {config.max_contacts}; allowed 1..10")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(config.timezone)
    except Exception:
        problems.append(f"timezone {config.timezone!r} is not an IANA time zone")
    return problems
