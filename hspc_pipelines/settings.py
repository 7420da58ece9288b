"""Every environment variable the product reads, in one typed, validated object.

Nothing here is read at import time: callers build `Settings()` (through `load_settings()`, which turns
validation errors into one `SettingsError` naming the variable, the value and what is allowed) when
they run. boto3 reads its own `AWS_ENDPOINT_URL_*` and credentials; the emulators read none of these.

Semantics kept from the readers this replaced: unset and empty both mean the default (except
`HSPC_WEBHOOK_ACCEPT_VERSIONS`, where empty means "none"); a whole number may be written "10.0";
"nan" and "inf" are refused; a secret's value never appears in an error.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import os
import re
import shutil
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hspc_pipelines.hubspot.pacing import DEFAULT_REQUESTS_PER_10S, DEFAULT_SEARCH_PER_SECOND
from hspc_pipelines.hubspot.paths import DEFAULT_VERSION, VERSION_ALLOWED, parse_version
from hspc_pipelines.partner_central.pacing import (
    DEFAULT_READS_PER_SECOND,
    DEFAULT_WRITES_PER_DAY,
    DEFAULT_WRITES_PER_SECOND,
)

# Where a variable belongs, for the README's table (in this order).
SECTIONS = ("HubSpot", "Partner Central", "Storage", "Schedules", "Events", "Co-sell", "Ingress", "Runtime")

# Defaults whose home is here (the pacing defaults live with the pacers).
DEFAULT_WRITE_WORKERS = 4  # threads applying rows; the pacer still spaces every write
DEFAULT_INVITATION_LOOKBACK_DAYS = 14
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_RETENTION_DAYS = 400  # the sync history's; history/log.py takes it from here

# Set while `load_settings` builds Settings from values it read: the environment is not read again.
_GIVEN_ONLY: ContextVar[bool] = ContextVar("hspc_settings_given_only", default=False)

# Variables an earlier system (the Lambda one, docs/migrating.md) named differently: old -> new. The old
# name is read as the new one with a warning; both set to different values is refused.
RENAMED: Mapping[str, str] = {"HUBSPOT_WEBHOOK_SECRET": "HUBSPOT_CLIENT_SECRET"}

log = logging.getLogger(__name__)

# Variables for which an empty value means something other than the default.
_EMPTY_IS_A_VALUE = frozenset({"HSPC_WEBHOOK_ACCEPT_VERSIONS"})


class SettingsError(ValueError):
    """An environment variable holds a value the product cannot use."""


def _var(name: str, default: Any, section: str, allowed: str, description: str, **constraints: Any) -> Any:
    """A field read from the variable `name`; `allowed` is what an error says is allowed."""
    return Field(
        default,
        alias=name,
        description=description,
        json_schema_extra={"section": section, "allowed": allowed},
        **constraints,
    )


def _whole(value: Any) -> Any:
    """'10' and '10.0' both read as 10; '12.5', 'nan' and 'inf' stay as they are (and are refused)."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if math.isfinite(number) and number.is_integer():
            return int(number)
    return value


_CRON_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_CRON_ITEM = r"(\*|[0-9]+(-[0-9]+)?|[A-Za-z]{3}(-[A-Za-z]{3})?)(/[0-9]+)?"
_CRON_FIELD = re.compile(rf"{_CRON_ITEM}(,{_CRON_ITEM})*")


def _is_cron(value: str) -> str:
    """Five cron fields (or a macro such as @daily). Dagster checks the ranges when it builds the
    schedule; this catches the typos here, without importing Dagster into every client that reads
    settings."""
    parts = value.split()
    if value.strip() in _CRON_MACROS or (len(parts) == 5 and all(_CRON_FIELD.fullmatch(p) for p in parts)):
        return value
    raise ValueError("not a cron expression")


class Settings(BaseSettings):
    """The product's configuration, from the environment (field aliases are the variable names)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", populate_by_name=True, frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment only (no .env file, no secrets directory); `load_settings` hands the values
        # over itself, so that a given mapping is the whole configuration.
        return (init_settings,) if _GIVEN_ONLY.get() else (init_settings, env_settings)

    # -- HubSpot ----------------------------------------------------------------------------------
    hubspot_auth: Literal["private_app", "client_credentials", "service_key"] | None = _var(
        "HSPC_HUBSPOT_AUTH", None, "HubSpot", "private_app, client_credentials or service_key",
        "How hspc signs in to HubSpot (docs/hubspot-app.md); unset: client_credentials when "
        "HUBSPOT_CLIENT_ID is set, else private_app when a token is set",
    )  # fmt: skip
    hubspot_access_token: SecretStr | None = _var(
        "HUBSPOT_ACCESS_TOKEN", None, "HubSpot", "a private app access token or a service key",
        "HubSpot private app token (or service key); unset: HSPC_HUBSPOT_TOKEN_SSM_PARAMETER, "
        "HUBSPOT_CLIENT_ID, else `make run` emulates",
    )  # fmt: skip
    hubspot_token_ssm_parameter: str | None = _var(
        "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER", None, "HubSpot", "an SSM parameter name",
        "SSM SecureString holding the HubSpot token (used instead of HUBSPOT_ACCESS_TOKEN)",
    )  # fmt: skip
    hubspot_base_url: str = _var(
        "HUBSPOT_BASE_URL", "https://api.hubapi.com", "HubSpot", "an http:// or https:// URL",
        "HubSpot API root (the emulator's URL locally)", pattern=r"^https?://",
    )  # fmt: skip
    hubspot_client_id: str | None = _var(
        "HUBSPOT_CLIENT_ID", None, "HubSpot", "the developer-platform app's client id",
        "With HUBSPOT_CLIENT_SECRET: client-credentials tokens (HSPC_HUBSPOT_AUTH=client_credentials)",
    )  # fmt: skip
    hubspot_client_secret: SecretStr | None = _var(
        "HUBSPOT_CLIENT_SECRET", None, "HubSpot", "the app's client secret",
        "Verifies webhook signatures (ingress; required unless HSPC_WEBHOOK_ACCEPT_VERSIONS=none) and "
        "obtains client-credentials tokens",
    )  # fmt: skip
    hubspot_webhook_secret: SecretStr | None = _var(
        "HUBSPOT_WEBHOOK_SECRET", None, "HubSpot", "the app's client secret",
        "Deprecated (the Lambda system's name): read as HUBSPOT_CLIENT_SECRET with a warning; "
        "refused when both are set and differ",
    )  # fmt: skip
    hubspot_requests_per_10s: int = _var(
        "HSPC_HUBSPOT_REQUESTS_PER_10S", DEFAULT_REQUESTS_PER_10S, "HubSpot", "a whole number, 1 or more",
        "HubSpot requests per rolling 10 s (private apps: 190; Free/Starter: 100)", ge=1,
    )  # fmt: skip
    hubspot_search_per_second: float = _var(
        "HSPC_HUBSPOT_SEARCH_PER_SECOND", DEFAULT_SEARCH_PER_SECOND, "HubSpot", "a number above 0",
        "HubSpot search requests per second (the endpoint allows about 5)", gt=0, allow_inf_nan=False,
    )  # fmt: skip
    hubspot_api_version: str = _var(
        "HSPC_HUBSPOT_API_VERSION", DEFAULT_VERSION, "HubSpot", VERSION_ALLOWED,
        "HubSpot API version in every path (date-based; from 2026-09 HubSpot enforces the portal's "
        "required-property rules on writes); legacy: the numbered v3/v4 paths until they end",
    )  # fmt: skip
    hubspot_daily_reserve: int = _var(
        "HSPC_HUBSPOT_DAILY_RESERVE", 10_000, "HubSpot", "a whole number, 0 or more",
        "HubSpot calls of the daily limit kept for event-driven work: below it (X-HubSpot-RateLimit-Daily-Remaining) "
        "runs defer their Partner Central writes until the next run", ge=0,
    )  # fmt: skip

    # -- Partner Central --------------------------------------------------------------------------
    partner_central_catalog: Literal["AWS", "Sandbox"] = _var(
        "PARTNER_CENTRAL_CATALOG", "AWS", "Partner Central", "'AWS' or 'Sandbox'",
        "Partner Central catalog: AWS (production) or Sandbox (AWS's test catalog)",
    )  # fmt: skip
    partner_central_role_arn: str | None = _var(
        "PARTNER_CENTRAL_ROLE_ARN", None, "Partner Central", "an IAM role ARN",
        "Role assumed for Partner Central calls (unset: the ambient AWS credentials)",
    )  # fmt: skip
    partner_central_external_id: str | None = _var(
        "PARTNER_CENTRAL_EXTERNAL_ID", None, "Partner Central", "the role's external id",
        "External id for assuming PARTNER_CENTRAL_ROLE_ARN",
    )  # fmt: skip
    partner_central_solution_id: str | None = _var(
        "PARTNER_CENTRAL_SOLUTION_ID", None, "Partner Central", "a solution id (S-...)",
        "Solution associated with new opportunities when no better match is found",
    )  # fmt: skip
    aws_region: str = _var(
        "AWS_REGION", "us-east-1", "Partner Central", "an AWS region name",
        "AWS region for Partner Central, SQS and SSM", min_length=1,
    )  # fmt: skip
    pc_reads_per_second: float = _var(
        "HSPC_PC_READS_PER_SECOND", DEFAULT_READS_PER_SECOND, "Partner Central", "a number above 0",
        "Partner Central read calls per second (quota: 10/s)", gt=0, allow_inf_nan=False,
    )  # fmt: skip
    pc_writes_per_second: float = _var(
        "HSPC_PC_WRITES_PER_SECOND", DEFAULT_WRITES_PER_SECOND, "Partner Central", "a number above 0",
        "Partner Central write calls per second (quota: 1/s)", gt=0, allow_inf_nan=False,
    )  # fmt: skip
    pc_writes_per_day: int = _var(
        "HSPC_PC_WRITES_PER_DAY", DEFAULT_WRITES_PER_DAY, "Partner Central", "a whole number, 1 or more",
        "Partner Central writes per rolling quota window (quota: 10,000 per 24 hours); runs budget against it", ge=1,
    )  # fmt: skip
    pc_quota_window_seconds: float = _var(
        "HSPC_PC_QUOTA_WINDOW_SECONDS", 86_400, "Partner Central", "a number above 0",
        "Length of the rolling quota window (24 hours; shorter only to scale time in tests and benchmarks)",
        gt=0, allow_inf_nan=False,
    )  # fmt: skip
    pc_reads_per_day: int = _var(
        "HSPC_PC_READS_PER_DAY", 100_000, "Partner Central", "a whole number, 1 or more",
        "Partner Central reads per rolling quota window (quota: 100,000 per 24 hours); every read is booked, "
        "and a read the window no longer holds is deferred, not sent", ge=1,
    )  # fmt: skip
    pc_read_reserve: int = _var(
        "HSPC_PC_READ_RESERVE", 2_000, "Partner Central", "a whole number, 0 or more",
        "Reads of the window first-load creates may not spend (their read-backs): kept for updates and events", ge=0,
    )  # fmt: skip
    pc_write_reserve: int = _var(
        "HSPC_PC_WRITE_RESERVE", 300, "Partner Central", "a whole number, 0 or more",
        "Writes of the window first-load creates may not spend: kept for updates and event-driven work", ge=0,
    )  # fmt: skip
    run_budget_seconds: float = _var(
        "HSPC_RUN_BUDGET_SECONDS", 0, "Partner Central", "a number, 0 or more",
        "Seconds a run may spend writing (0: the time between two reconcile ticks); the rest waits, deferred",
        ge=0, allow_inf_nan=False,
    )  # fmt: skip
    create_order: str = _var(
        "HSPC_CREATE_ORDER", "close_date,-amount", "Partner Central",
        "close_date, amount, deal_id, each optionally with '-' (largest first), comma-separated",
        "Which first-load creates go first when the budget cannot take them all",
        pattern=r"^\s*-?(close_date|amount|deal_id)\s*(,\s*-?(close_date|amount|deal_id)\s*)*$",
    )  # fmt: skip
    pc_write_workers: int = _var(
        "HSPC_PC_WRITE_WORKERS", DEFAULT_WRITE_WORKERS, "Partner Central", "a whole number, 0 or more",
        "Threads applying rows (0 or 1: one at a time; writes stay paced either way)", ge=0,
    )  # fmt: skip

    # -- Storage ----------------------------------------------------------------------------------
    dagster_home: str | None = _var(
        "DAGSTER_HOME", None, "Storage", "a directory path",
        "Dagster instance directory; local state and outputs default to files in it (unset: ./.dagster_home)",
    )  # fmt: skip
    state_url: SecretStr | None = _var(
        "HSPC_STATE_URL", None, "Storage", "an SQLAlchemy URL",
        "Sync-state database (PostgreSQL in production; unset: SQLite in DAGSTER_HOME)",
    )  # fmt: skip
    asset_store_url: str | None = _var(
        "HSPC_ASSET_STORE_URL", None, "Storage", "s3://bucket/prefix or a local directory",
        "Where asset outputs live (Delta Lake tables; unset: the hspc_assets folder in DAGSTER_HOME)",
        pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|[^:]+)$",
    )  # fmt: skip
    history_retention_days: int = _var(
        "HSPC_HISTORY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, "Storage", "a whole number, 1 or more",
        "Days the sync history keeps a row; runs purge older rows after appending", ge=1,
    )  # fmt: skip
    mapping_config: str | None = _var(
        "HSPC_MAPPING_CONFIG", None, "Storage", "the path of a YAML or JSON file",
        "Mapping configuration file (stage maps, ownership, ...; unset: the defaults)",
    )  # fmt: skip
    invitation_rules: str | None = _var(
        "HSPC_INVITATION_RULES", None, "Co-sell", "the path of a readable YAML or JSON file",
        "Invitation rules file (unset: the mapping's invitation_rules, else accept all)",
    )  # fmt: skip

    # -- Schedules --------------------------------------------------------------------------------
    partitions_start_date: dt.date = _var(
        "HSPC_PARTITIONS_START_DATE", dt.date(2025, 1, 1), "Schedules", "a date, YYYY-MM-DD",
        "First day of the daily change-date partitions",
    )  # fmt: skip
    reconcile_cron: str = _var(
        "HSPC_RECONCILE_CRON", "*/15 * * * *", "Schedules", "a cron expression",
        "When reconcile_schedule runs today's partition",
    )  # fmt: skip
    nightly_sweep_hour_utc: int = _var(
        "HSPC_NIGHTLY_SWEEP_HOUR_UTC", 2, "Schedules", "a whole number from 0 to 23",
        "Hour (UTC) at which sweep_schedule reconciles the whole range", ge=0, le=23,
    )  # fmt: skip
    sweep_days: int = _var(
        "HSPC_SWEEP_DAYS", 0, "Schedules", "a whole number, 0 or more",
        "Days the nightly sweep covers (0: the whole partition range)", ge=0,
    )  # fmt: skip
    run_days: int = _var(
        "HSPC_RUN_DAYS", 120, "Schedules", "a whole number, 1 or more",
        "Days `hspc run` reconciles when --since is not given", ge=1,
    )  # fmt: skip
    invitations_cron: str = _var(
        "HSPC_INVITATIONS_CRON", "*/15 * * * *", "Schedules", "a cron expression",
        "When invitations_schedule polls pending invitations",
    )  # fmt: skip
    aws_summaries_cron: str = _var(
        "HSPC_AWS_SUMMARIES_CRON", "0 * * * *", "Schedules", "a cron expression",
        "When aws_summaries_schedule refreshes AWS summaries",
    )  # fmt: skip

    # -- Events -----------------------------------------------------------------------------------
    events_queue_url: str | None = _var(
        "HSPC_EVENTS_QUEUE_URL", None, "Events", "an SQS queue URL",
        "Events queue (webhooks, Partner Central events, submit requests); unset: the event path is off",
    )  # fmt: skip
    event_bus_name: str = _var(
        "HSPC_EVENT_BUS_NAME", "default", "Events", "an EventBridge bus name",
        "Bus whose rule sends Partner Central events to the queue (`hspc doctor` checks the rule)",
    )  # fmt: skip
    events_tick_budget_seconds: float = _var(
        "HSPC_EVENTS_TICK_BUDGET_SECONDS", 20.0, "Events", "a number of seconds, 0 or more",
        "Time an events_sensor tick spends receiving messages", ge=0, allow_inf_nan=False,
    )  # fmt: skip
    events_sensor_interval_seconds: int = _var(
        "HSPC_EVENTS_SENSOR_INTERVAL_SECONDS", 15, "Events", "a whole number, 0 or more",
        "Seconds between events_sensor ticks (the queue's visibility timeout must outlast two); "
        "reconcile_resume_sensor ticks as often", ge=0,
    )  # fmt: skip
    hubspot_events_source: Literal["queue", "journal", "both"] = _var(
        "HSPC_HUBSPOT_EVENTS_SOURCE", "queue", "Events",
        "queue, journal or both (journal and both need HSPC_HUBSPOT_AUTH=client_credentials)",
        "Where HubSpot's deal events come from: webhooks through the ingress and the queue "
        "(events_sensor), the webhooks journal (journal_sensor), or both",
    )  # fmt: skip
    journal_portal_id: int | None = _var(
        "HSPC_JOURNAL_PORTAL_ID", None, "Events", "a HubSpot account (portal) id",
        "journal_sensor reads this account's local journal; unset: the app's global journal", ge=1,
    )  # fmt: skip
    alert_webhook_url: SecretStr | None = _var(
        "HSPC_ALERT_WEBHOOK_URL", None, "Events", "an http:// or https:// URL",
        "Slack-compatible webhook for alerts (failed runs, failed rows) when no Slack token is set",
    )  # fmt: skip
    slack_token: SecretStr | None = _var(
        "HSPC_SLACK_TOKEN", None, "Events", "a Slack bot token (xoxb-...)",
        "Alerts go to Slack through dagster-slack (with HSPC_SLACK_CHANNEL) instead of the webhook",
    )  # fmt: skip
    slack_channel: str | None = _var(
        "HSPC_SLACK_CHANNEL", None, "Events", "a channel name (#ops) or id",
        "Slack channel for alerts (needs HSPC_SLACK_TOKEN)",
    )  # fmt: skip
    alert_rows_threshold: int = _var(
        "HSPC_ALERT_ROWS_THRESHOLD", 10, "Events", "a whole number, 0 or more",
        "Alert when more rows than this end failed or invalid in one reconcile run", ge=0,
    )  # fmt: skip

    # -- Co-sell ----------------------------------------------------------------------------------
    invitation_lookback_days: int = _var(
        "HSPC_INVITATION_LOOKBACK_DAYS", DEFAULT_INVITATION_LOOKBACK_DAYS, "Co-sell", "a whole number, 0 or more",
        "How far back accepted invitations are re-checked to finish half-done ones", ge=0,
    )  # fmt: skip
    task_poll_budget_seconds: float = _var(
        "HSPC_TASK_POLL_BUDGET_SECONDS", 60.0, "Co-sell", "a number of seconds, 0 or more",
        "Time a run follows accept/submit tasks before leaving them to the next run",
        ge=0, allow_inf_nan=False,
    )  # fmt: skip
    notify_tasks: bool = _var(
        "HSPC_NOTIFY_TASKS", False, "Co-sell", "true or false (1/0, yes/no, on/off)",
        "Create HubSpot tasks for new AWS notifications",
    )  # fmt: skip

    # -- Ingress ----------------------------------------------------------------------------------
    public_url: str | None = _var(
        "HSPC_PUBLIC_URL", None, "Ingress", "an http:// or https:// URL",
        "The ingress as HubSpot calls it (behind a proxy), for webhook signatures",
    )  # fmt: skip
    webhook_accept_versions: str = _var(
        "HSPC_WEBHOOK_ACCEPT_VERSIONS", "v3", "Ingress", "v1, v2, v3 (comma-separated) or none",
        "Webhook signature versions accepted; none (or empty) switches webhooks off",
    )  # fmt: skip
    ingress_max_body_bytes: int = _var(
        "HSPC_INGRESS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, "Ingress", "a whole number, 1 or more",
        "Largest request body the ingress accepts", ge=1,
    )  # fmt: skip
    ingress_api_token: SecretStr | None = _var(
        "HSPC_INGRESS_API_TOKEN", None, "Ingress", "a bearer token (16 characters or more)",
        "One bearer token for the ingress's routes (added to HSPC_INGRESS_API_TOKENS)",
    )  # fmt: skip
    ingress_api_tokens: SecretStr | None = _var(
        "HSPC_INGRESS_API_TOKENS", None, "Ingress", "comma-separated `token` or `id:token` entries",
        "Bearer tokens valid at once (two during a rotation); every route but webhooks and /healthz needs one",
    )  # fmt: skip
    ingress_api_tokens_ssm_parameter: str | None = _var(
        "HSPC_INGRESS_API_TOKENS_SSM_PARAMETER", None, "Ingress", "an SSM parameter name",
        "SSM SecureString holding the ingress's tokens (as HSPC_INGRESS_API_TOKENS), re-read while running",
    )  # fmt: skip
    ingress_token_refresh_seconds: float = _var(
        "HSPC_INGRESS_TOKEN_REFRESH_SECONDS", 60.0, "Ingress", "a number of seconds, 0 or more",
        "How often the ingress re-reads its tokens from SSM (0: on every request)", ge=0, allow_inf_nan=False,
    )  # fmt: skip
    ingress_auth: Literal["on", "off"] = _var(
        "HSPC_INGRESS_AUTH", "on", "Ingress", "'on' or 'off'",
        "off: no bearer token checked (local use only; the ingress logs a warning at every start)",
    )  # fmt: skip

    # -- Runtime ----------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = _var(
        "LOG_LEVEL", "INFO", "Runtime", "DEBUG, INFO, WARNING, ERROR or CRITICAL",
        "Level of hspc's logs and of Dagster's run logs",
    )  # fmt: skip
    log_format: Literal["text", "json"] = _var(
        "HSPC_LOG_FORMAT", "text", "Runtime", "'text' or 'json'",
        "json: one JSON object a line (for CloudWatch Logs Insights)",
    )  # fmt: skip
    cloudwatch_metrics: bool = _var(
        "HSPC_CLOUDWATCH_METRICS", False, "Runtime", "true or false (1/0, yes/no, on/off)",
        "Print each run's figures as CloudWatch embedded metric format lines (namespace hspc)",
    )  # fmt: skip

    @field_validator("log_level", "log_format", "hubspot_events_source", "hubspot_auth", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return (
            value.upper()
            if value.lower() in ("debug", "info", "warning", "error", "critical")
            else value.lower()
        )

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v != "" or k in _EMPTY_IS_A_VALUE}
        return data

    @field_validator(
        "hubspot_requests_per_10s",
        "pc_write_workers",
        "pc_writes_per_day",
        "pc_write_reserve",
        "pc_reads_per_day",
        "pc_read_reserve",
        "hubspot_daily_reserve",
        "nightly_sweep_hour_utc",
        "sweep_days",
        "run_days",
        "events_sensor_interval_seconds",
        "journal_portal_id",
        "invitation_lookback_days",
        "ingress_max_body_bytes",
        "history_retention_days",
        "pc_writes_per_day",
        "alert_rows_threshold",
        mode="before",
    )
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        return _whole(value)

    @field_validator("hubspot_api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        return parse_version(value).name

    @field_validator("reconcile_cron", "invitations_cron", "aws_summaries_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _is_cron(value)

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return value

    # -- derived values ---------------------------------------------------------------------------

    def home(self) -> Path:
        """DAGSTER_HOME, or ./.dagster_home (resolved; not created: see `dagster_home`)."""
        return Path(self.dagster_home or Path.cwd() / ".dagster_home").resolve()

    def state_url_or_default(self, home: str) -> str:
        return (
            self.state_url.get_secret_value()
            if self.state_url
            else f"sqlite:///{Path(home) / 'hspc_state.sqlite'}"
        )

    def asset_store_url_or_default(self, home: str) -> str:
        return self.asset_store_url or str(Path(home) / "hspc_assets")


SECRET_FIELDS = frozenset(
    name for name, f in Settings.model_fields.items() if f.annotation in (SecretStr, SecretStr | None)
)


def _alias(name: str) -> str:
    return Settings.model_fields[name].alias or name


_ALIAS_ORDER = tuple(_alias(n) for n in Settings.model_fields)
_ALIASES = frozenset(_ALIAS_ORDER)


def _error_from(exc: ValidationError, source: Mapping[str, str]) -> SettingsError:
    """One message for every bad variable: NAME='value' cannot be used; allowed: ..."""
    by_alias = {_alias(n): n for n in Settings.model_fields}
    lines = []
    for error in exc.errors():
        alias = str(error["loc"][0]) if error["loc"] else "?"
        field = by_alias.get(alias, alias)
        extra = Settings.model_fields[field].json_schema_extra if field in Settings.model_fields else None
        allowed = extra.get("allowed") if isinstance(extra, dict) else error["msg"]
        shown = " (value hidden)" if field in SECRET_FIELDS else f"={source.get(alias, error['input'])!r}"
        lines.append(f"{alias}{shown} cannot be used; allowed: {allowed}")
    return SettingsError("; ".join(lines))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment now (or from `env` alone); a bad value raises `SettingsError`.

    Cached by the variables' values, so calling it wherever a value is needed costs a few dict look-ups
    (building Settings costs milliseconds) and a changed environment is always seen."""
    source = os.environ if env is None else env
    return _settings_for(tuple((name, source[name]) for name in _ALIAS_ORDER if name in source))


@functools.lru_cache(maxsize=32)
def _settings_for(values: tuple[tuple[str, str], ...]) -> Settings:
    # The variables' strings: pydantic parses each into its field's type (int, date, SecretStr...).
    raw: dict[str, Any] = _renamed(dict(values))
    token = _GIVEN_ONLY.set(True)
    try:
        settings = Settings(**raw)
    except ValidationError as exc:
        raise _error_from(exc, dict(values)) from None
    finally:
        _GIVEN_ONLY.reset(token)
    _check_events_source(settings)
    return settings


def _check_events_source(settings: Settings) -> None:
    """HubSpot serves its webhooks journal to a developer-platform app's client-credentials tokens only
    (docs/webhooks-journal.md): the journal needs that mode, named or implied by HUBSPOT_CLIENT_ID
    (hubspot/auth.py infers it the same way and refuses an ambiguous choice)."""
    if settings.hubspot_events_source == "queue":
        return
    mode = settings.hubspot_auth or ("client_credentials" if settings.hubspot_client_id else None)
    if mode != "client_credentials":
        shown = settings.hubspot_auth or "unset without HUBSPOT_CLIENT_ID"
        raise SettingsError(
            f"HSPC_HUBSPOT_EVENTS_SOURCE={settings.hubspot_events_source} cannot be used with "
            f"HSPC_HUBSPOT_AUTH={shown}: HubSpot's webhooks journal needs client_credentials "
            "(HSPC_HUBSPOT_AUTH=client_credentials, or HUBSPOT_CLIENT_ID set); allowed otherwise: "
            "HSPC_HUBSPOT_EVENTS_SOURCE=queue"
        )


def _renamed(raw: dict[str, Any]) -> dict[str, Any]:
    """Old variable names (RENAMED) read as the new ones; never shows a value (they are secrets)."""
    for old, new in RENAMED.items():
        if not raw.get(old):
            continue
        if raw.get(new) and raw[new] != raw[old]:
            raise SettingsError(
                f"{old} (value hidden) and {new} (value hidden) are both set and differ; {old} is the "
                f"old name of {new}: keep only {new}"
            )
        log.warning("%s is deprecated: rename it to %s (read as %s for now)", old, new, new)
        raw[new] = raw[old]
    return raw


def dagster_home(settings: Settings | None = None) -> Path:
    """The instance directory, made ready: created, given the repository's dagster.yaml when it has
    none, and exported as DAGSTER_HOME so Dagster and the runs it starts use the same one."""
    home = (settings or load_settings()).home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = Path(__file__).resolve().parents[1] / "dagster.yaml"
    if not config.exists() and template.exists():
        shutil.copyfile(template, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def configuration_table() -> str:
    """The README's configuration table, rendered from the fields (`hspc config` prints it)."""
    rows = ["| Variable | Default | Allowed | What it does |", "| --- | --- | --- | --- |"]
    fields = sorted(
        Settings.model_fields.values(),
        key=lambda f: SECTIONS.index(_extra(f.json_schema_extra)["section"]),
    )
    for f in fields:
        default = "" if f.default is None else str(f.default)
        rows.append(
            f"| `{f.alias}` | {f'`{default}`' if default else '-'} | "
            f"{_extra(f.json_schema_extra)['allowed']} | {f.description} |"
        )
    return "\n".join(rows) + "\n"


def _extra(extra: Any) -> dict[str, str]:
    return extra if isinstance(extra, dict) else {}
