"""Mapping configuration: stage maps per pipeline, spend, co-sell rule, ownership, defaults.

Everything a deployment may want to change lives here and is loaded from a YAML or JSON file
(`load_mapping_config`), so changing a mapping never needs a code change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

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
    # Which side wins a field both sides changed since they last agreed (reconcile/merge.py)
    conflict_policy: Literal["owner", "hubspot", "partner_central", "newest"] = "owner"
    # Opportunities created in Partner Central become deals (reconcile/import_rules.py), those created
    # on or after `import_since` (ISO date; None: the day the state store was created).
    import_opportunities: bool = True
    import_since: str | None = None

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
    """The file's content, validated by `MappingFile`, merged over the defaults and checked as a whole."""
    try:
        parsed = MappingFile.model_validate(raw)
    except ValidationError as exc:
        raise MappingConfigError(
            f"mapping config {source}: " + "; ".join(_problem(e) for e in exc.errors())
        ) from None
    config = parsed.merged_over(MappingConfig.default())
    problems = check_config(config)
    if problems:
        raise MappingConfigError(f"mapping config {source}: " + "; ".join(problems))
    return config


# --- the file, as a pydantic model -------------------------------------------------------------------


def _as_text(value: Any) -> Any:
    # YAML reads 110001, 1.5 or yes as numbers and booleans; the file means their text, as str() gives it.
    if isinstance(value, dt.date):  # YAML reads 2026-01-31 as a date
        return value.isoformat()
    return str(value) if isinstance(value, int | float | bool) else value


def _one_of(allowed: Collection[str]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError("not_allowed", "allowed: {allowed}", {"allowed": list(allowed)})
        return value

    return AfterValidator(check)


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:  # ValueError, ZoneInfoNotFoundError, or an OS error reading the tz database
        raise PydanticCustomError("time_zone", "allowed: an IANA time zone such as Europe/Paris") from None
    return value


def _iso_date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise PydanticCustomError("iso_date", "allowed: an ISO date such as 2026-01-31") from None


Text = Annotated[str, BeforeValidator(_as_text)]
Stage = Annotated[Text, _one_of(model.STAGES)]
Owner = Annotated[Text, _one_of(OWNERS)]
OwnedField = Annotated[Text, _one_of(tuple(DEFAULT_OWNERSHIP))]


_DEFAULTS = MappingConfig()  # the file's defaults are the configuration's (only keys set are applied)


class PipelineSpec(BaseModel):
    """`pipelines: {id: {stages: {...}, reverse: {...}}}`, the friendly form of the two stage maps."""

    model_config = ConfigDict(extra="ignore")

    stages: dict[Text, Stage] | None = None  # HubSpot stage id -> Partner Central stage
    reverse: dict[Text, Text] | None = None  # Partner Central stage -> HubSpot stage id


class MappingFile(BaseModel):
    """What a mapping file may say. Unknown keys are refused; a key left out keeps its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pipelines: dict[Text, PipelineSpec | None] | None = None
    stage_maps: dict[Text, dict[Text, Stage]] | None = None
    reverse_stage_maps: dict[Text, dict[Text, Text]] | None = None
    default_pipeline: Text = _DEFAULTS.default_pipeline
    amount_mode: Literal["monthly", "total_contract"] = _DEFAULTS.amount_mode
    contract_term_months: Annotated[int, Field(ge=1)] = _DEFAULTS.contract_term_months
    default_currency: Annotated[Text, _one_of(model.CURRENCY_CODES)] = _DEFAULTS.default_currency
    cosell_tag: Text = _DEFAULTS.cosell_tag
    cosell_property: Text | None = None
    cosell_property_values: tuple[Text, ...] | None = None
    cosell_pipelines: tuple[Text, ...] | None = None
    ownership: dict[OwnedField, Owner] = Field(default_factory=dict)
    origin: Annotated[Text, _one_of(model.ORIGINS)] = _DEFAULTS.origin
    opportunity_type: Annotated[Text, _one_of(model.OPPORTUNITY_TYPES)] = _DEFAULTS.opportunity_type
    national_security: Annotated[Text, _one_of(model.NATIONAL_SECURITY)] = _DEFAULTS.national_security
    primary_needs_default: tuple[Annotated[Text, _one_of(model.PRIMARY_NEEDS)], ...] | None = None
    target_company: Text = _DEFAULTS.target_company
    partner_opportunity_prefix: Text = _DEFAULTS.partner_opportunity_prefix
    industry_overrides: dict[Text, Annotated[Text, _one_of(model.INDUSTRIES)]] = Field(default_factory=dict)
    timezone: Annotated[Text, AfterValidator(_time_zone)] = _DEFAULTS.timezone
    max_contacts: Annotated[int, Field(ge=1, le=10)] = _DEFAULTS.max_contacts
    conflict_policy: Literal["owner", "hubspot", "partner_central", "newest"] = _DEFAULTS.conflict_policy
    import_opportunities: bool = _DEFAULTS.import_opportunities
    import_since: Annotated[Text, AfterValidator(_iso_date)] | None = None

    @field_validator("ownership")
    @classmethod
    def _partner_central_fields_stay_with_partner_central(cls, value: dict[str, str]) -> dict[str, str]:
        for name, owner in value.items():
            if name in PARTNER_CENTRAL_FIELDS and owner != PARTNER_CENTRAL:
                raise PydanticCustomError(
                    "owner",
                    "{field}: only partner_central can own it (HubSpot has no source)",
                    {"field": name},
                )
        return value

    def merged_over(self, base: MappingConfig) -> MappingConfig:
        """The configuration: the keys the file set, over `base` (stage maps are added pipeline by pipeline)."""
        stage_maps = {k: dict(v) for k, v in base.stage_maps.items()}
        reverse_maps: dict[str, dict[str, str]] = {}
        for pipeline, spec in (self.pipelines or {}).items():
            stage_maps[pipeline] = dict(spec.stages or {}) if spec else {}
            if spec and spec.reverse:
                reverse_maps[pipeline] = dict(spec.reverse)
        stage_maps.update({k: dict(v) for k, v in (self.stage_maps or {}).items()})
        reverse_maps.update({k: dict(v) for k, v in (self.reverse_stage_maps or {}).items()})
        changes: dict[str, Any] = {"stage_maps": stage_maps, "reverse_stage_maps": reverse_maps}
        for key in self.model_fields_set - {"pipelines", "stage_maps", "reverse_stage_maps"}:
            value = getattr(self, key)
            if key in ("cosell_property_values", "cosell_pipelines", "primary_needs_default"):
                value = value or ()
            elif key == "ownership":
                value = {**DEFAULT_OWNERSHIP, **value}
            changes[key] = value
        return replace(base, **changes)


def _problem(error: ErrorDetails) -> str:
    """`<path>: got <value>, <what is allowed>`, the path from pydantic's location (stage_maps.default.x)."""
    loc = [str(p) for p in error["loc"]]
    if error["type"] == "extra_forbidden":
        return f"unknown key {loc[-1]!r}; allowed: {sorted(MappingFile.model_fields)}"
    is_key = bool(loc) and loc[-1] == "[key]"  # a dict key in error: the path ends at the key itself
    path = ".".join(loc[:-1] if is_key else loc) or "(top level)"
    if error["type"] in ("model_type", "dict_type") and not loc:
        return "expected a mapping at the top level"
    if error["type"] == "owner":
        return f"{path}.{error['msg']}"
    got = "" if error["type"] == "missing" else f"{'key' if is_key else 'got'} {error['input']!r}, "
    what = error["msg"] if error["type"] in _CUSTOM else error["msg"][0].lower() + error["msg"][1:]
    return f"{path}: {got}{what}"


_CUSTOM = frozenset({"not_allowed", "time_zone", "iso_date"})


def check_config(config: MappingConfig) -> list[str]:
    """The rules that span fields (each field's own values are checked by `MappingFile`): reverse maps
    agree with the forward maps and the default pipeline has a stage map. Every reason, so a deployment
    fails at start, not per deal."""
    problems: list[str] = []
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
    return problems
