"""Dagster resources: thin wrappers that build one client per service and the shared state.

Secrets and URLs reach them as `dg.EnvVar`, so they are read when a run starts and never stored in run
config; `Settings` only says whether a variable is set (else the default applies) and supplies the
plain numbers. A HubSpot token may instead come from SSM Parameter Store (SecureString) through
dagster-aws.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dagster as dg
from dagster._utils.schedules import cron_string_iterator
from pydantic import PrivateAttr

from hspc_pipelines.defs.io import asset_store_io_manager
from hspc_pipelines.history import SyncHistory
from hspc_pipelines.hubspot import pacing as hubspot_pacing
from hspc_pipelines.hubspot import paths as hubspot_paths
from hspc_pipelines.hubspot.auth import (
    AuthMode,
    Credentials,
    StaticToken,
    auth_mode,
    shared_client_credentials,
)
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping import MappingConfig, load_mapping_config
from hspc_pipelines.metrics.figures import CallFigures
from hspc_pipelines.partner_central import pacing as pc_pacing
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.quotas.budget import QuotaPolicy, parse_create_order
from hspc_pipelines.quotas.meter import QuotaMeter
from hspc_pipelines.quotas.run import WriteBudget, keep_hubspot_daily
from hspc_pipelines.settings import DEFAULT_WRITE_WORKERS, Settings
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines.state.submit_requests import SubmitRequestLog

DEFAULT_HUBSPOT_URL = "https://api.hubapi.com"

# dagster leaves DagsterInvalidConfigError.__init__ unannotated; this is its signature
# (preamble, evaluation errors, the config value), so raising it is a typed call.
_invalid_config: Callable[[str, list[Any], object], dg.DagsterInvalidConfigError] = (
    dg.DagsterInvalidConfigError
)


def _ssm_secret(parameter: str, region: str) -> str:
    """Read a SecureString through dagster-aws's SSM resource (boto3 honours AWS_ENDPOINT_URL_SSM)."""
    from dagster_aws.ssm import SSMResource

    client = SSMResource(region_name=region).get_client()
    return str(client.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])


def _ssm_reader(parameter: str, region: str) -> Callable[[], str]:
    return lambda: _ssm_secret(parameter, region)


class HubSpotResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """HubSpot CRM client. `auth` (HSPC_HUBSPOT_AUTH) says which credential: a static token
    (`access_token` or `access_token_ssm_parameter`: a private app's, or a service key) or a
    developer-platform app's `client_id` and `client_secret` (client-credentials tokens)."""

    auth: str = AuthMode.PRIVATE_APP.value
    access_token: str | None = None
    access_token_ssm_parameter: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    base_url: str = DEFAULT_HUBSPOT_URL
    region: str = "us-east-1"  # of the SSM parameter
    requests_per_10s: int = hubspot_pacing.DEFAULT_REQUESTS_PER_10S
    search_per_second: float = hubspot_pacing.DEFAULT_SEARCH_PER_SECOND
    api_version: str = hubspot_paths.DEFAULT_VERSION  # HSPC_HUBSPOT_API_VERSION (hubspot/paths.py)
    # Whether `ensure_properties` creates the properties hspc writes (off: an operator ran `hspc bootstrap`).
    bootstrap: bool = True
    # HubSpot's daily calls kept for updates and events; below it first-load creates wait a run period.
    daily_reserve: int = 10_000
    daily_hold_seconds: float = 900.0

    _client: HubSpotClient | None = PrivateAttr(default=None)
    _properties_checked: bool = PrivateAttr(default=False)

    def get_client(self) -> HubSpotClient:
        if self._client is None:
            self._client = HubSpotClient(
                base_url=self.base_url,
                credentials=self._credentials(),
                requests_per_10s=self.requests_per_10s,
                search_per_second=self.search_per_second,
                api_version=self.api_version,
            )
        return self._client

    def _credentials(self) -> Credentials:
        mode = AuthMode(self.auth)
        if mode is AuthMode.CLIENT_CREDENTIALS:
            if not (self.client_id and self.client_secret):
                raise _invalid_config(
                    "HubSpot client credentials missing: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET",
                    [],
                    None,
                )
            # One provider per app in the process: every step and sensor shares its token.
            return shared_client_credentials(self.client_id, self.client_secret, self.base_url)
        token = self.access_token
        if not token and self.access_token_ssm_parameter:
            token = _ssm_secret(self.access_token_ssm_parameter, self.region)
        if not token:
            raise _invalid_config(
                "HubSpot access token missing: set HUBSPOT_ACCESS_TOKEN or HSPC_HUBSPOT_TOKEN_SSM_PARAMETER",
                [],
                None,
            )
        parameter, region = self.access_token_ssm_parameter, self.region
        # A token from SSM is re-read after a 401, so rotating it needs no restart.
        reread = _ssm_reader(parameter, region) if parameter and not self.access_token else None
        return StaticToken(token, mode, reread=reread)

    def call_figures(self) -> CallFigures:
        """The calls this resource's client made so far (none before it is built)."""
        if self._client is None:
            return CallFigures()
        stats = self._client.stats
        return CallFigures(calls=stats.total, throttled=int(stats.snapshot()["throttled"]))

    def keep_daily(self, store: SyncStateStore) -> str | None:
        """After the calls of a snapshot: HubSpot's daily remainder below the reserve holds first-load
        creates of every run for a run period (the reason, when held)."""
        if self._client is None:
            return None
        daily = self._client.pacer.daily
        return keep_hubspot_daily(store, daily, self.daily_reserve, time.time(), self.daily_hold_seconds)

    def ensure_properties(self, log: Any = None) -> list[str]:
        """The setup step every asset that talks to HubSpot takes first: the custom properties hspc
        reads and writes exist before its first write in a run. Checked once per run (cheap when they
        exist); returns those created now."""
        if not self.bootstrap or self._properties_checked:
            return []
        created = bootstrap_properties(self.get_client())
        self._properties_checked = True
        if created and log is not None:
            log.info(f"created HubSpot properties: {', '.join(created)}")
        return created


class PartnerCentralResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Partner Central Selling client, through an assumed role when `role_arn` is set."""

    catalog: str = "AWS"
    role_arn: str | None = None
    external_id: str | None = None
    region: str = "us-east-1"
    reads_per_second: float = pc_pacing.DEFAULT_READS_PER_SECOND
    writes_per_second: float = pc_pacing.DEFAULT_WRITES_PER_SECOND
    # Threads applying rows; the pacer above still spaces every write, so this only hides latency.
    write_workers: int = DEFAULT_WRITE_WORKERS
    default_solution_id: str | None = None
    # The write budget (quotas/): the rolling window's quota, its length, the reserve first-load
    # creates may not spend, the seconds a run may write for, and the order of creates.
    writes_per_day: int = 10_000
    quota_window_seconds: float = 86_400.0
    write_reserve: int = 300
    reads_per_day: int = 100_000
    read_reserve: int = 2_000
    run_budget_seconds: float = 900.0
    create_order: str = "close_date,-amount"
    # The state store's URL: every call of the run's client is booked in its quota ledger (unset: none).
    ledger_url: str | None = None

    _client: PartnerCentralClient | None = PrivateAttr(default=None)

    def call_figures(self) -> CallFigures:
        """The calls this resource's client made so far (none before it is built)."""
        if self._client is None:
            return CallFigures()
        stats = self._client.stats
        return CallFigures(stats.total, int(stats.snapshot()["throttled"]), stats.writes())

    def get_client(self) -> PartnerCentralClient:
        if self._client is None:
            self._client = PartnerCentralClient(
                self.catalog,
                role_arn=self.role_arn or None,
                external_id=self.external_id or None,
                region=self.region,
                reads_per_second=self.reads_per_second,
                writes_per_second=self.writes_per_second,
            )
            if self.ledger_url:
                # Every call, whichever feature makes it, counts against the 24-hour quotas once.
                self._client.meter = QuotaMeter(SyncStateStore(self.ledger_url), self.quota_policy())
        return self._client

    def quota_policy(self) -> QuotaPolicy:
        return QuotaPolicy(
            writes_per_window=self.writes_per_day,
            window_seconds=self.quota_window_seconds,
            writes_per_second=self.writes_per_second,
            run_seconds=self.run_budget_seconds,
            reserve=self.write_reserve,
            reads_per_window=self.reads_per_day,
            read_reserve=self.read_reserve,
        )

    def write_budget(
        self,
        store: SyncStateStore,
        started: float | None = None,
        yield_to: Callable[[], str | None] | None = None,
    ) -> WriteBudget:
        """This step's share of the write quotas, over the ledger every run books in; its write time
        counts from `started` (the run's start) when given; `yield_to` names a run with priority
        waiting for the writes slot (the reconcile gives it up between rows)."""
        return WriteBudget(
            store,
            self.quota_policy(),
            self.catalog,
            parse_create_order(self.create_order),
            started=started,
            yield_to=yield_to,
        )

    def flush_ledger(self) -> None:
        """Book the calls the run's client made and has not booked yet (at the end of a step)."""
        if self._client is not None and isinstance(self._client.meter, QuotaMeter):
            self._client.meter.flush()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.flush_ledger()  # the last few calls of the step, whatever it was


class SyncStateResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The sync-state store (SQLAlchemy URL: SQLite locally, PostgreSQL in production)."""

    url: str

    _store: SyncStateStore | None = PrivateAttr(default=None)
    _history: SyncHistory | None = PrivateAttr(default=None)
    _submit_requests: SubmitRequestLog | None = PrivateAttr(default=None)

    def get_store(self) -> SyncStateStore:
        if self._store is None:
            self._store = SyncStateStore(self.url)
        return self._store

    def get_submit_requests(self) -> SubmitRequestLog:
        """Submit requests and their answers (`GET /submit-opportunity/{id}`) in the same database."""
        if self._submit_requests is None:
            self._submit_requests = SubmitRequestLog.from_url(self.url)
        return self._submit_requests

    def get_history(self) -> SyncHistory:
        """The sync history in the same database (docs/history.md): one engine per run."""
        if self._history is None:
            self._history = SyncHistory.from_url(self.url)
        return self._history


class MappingResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Mapping configuration (stage maps, ownership, amount mode …) from a YAML/JSON file."""

    config_path: str | None = None

    _config: MappingConfig | None = PrivateAttr(default=None)

    def get_config(self) -> MappingConfig:
        if self._config is None:
            self._config = load_mapping_config(self.config_path or None)
        return self._config


def tick_period_seconds(cron: str) -> float:
    """Seconds between the reconcile schedule's next two ticks: a run that writes for no longer ends
    before the next one is due."""
    ticks = cron_string_iterator(time.time(), cron, "UTC")
    first = next(ticks)
    return (next(ticks) - first).total_seconds()


def _env_or(settings: Settings, field: str, default: Any) -> Any:
    """`dg.EnvVar` of the field's variable when it is set (read again when a run starts), else `default`."""
    if field in settings.model_fields_set and getattr(settings, field) is not None:
        return dg.EnvVar(str(Settings.model_fields[field].alias))
    return default


def build_resources(dagster_home: str, settings: Settings) -> dict[str, Any]:
    """The resources the assets ask for by name, from the settings of this code location."""
    ssm_parameter = settings.hubspot_token_ssm_parameter
    mode = auth_mode(settings) or AuthMode.PRIVATE_APP  # nothing set: the run says the token is missing
    app = mode is AuthMode.CLIENT_CREDENTIALS
    run_seconds = settings.run_budget_seconds or tick_period_seconds(settings.reconcile_cron)
    state_url = _env_or(settings, "state_url", settings.state_url_or_default(dagster_home))
    hubspot = HubSpotResource(
        auth=mode.value,
        access_token=None if ssm_parameter or app else dg.EnvVar("HUBSPOT_ACCESS_TOKEN"),
        access_token_ssm_parameter=None if app else ssm_parameter,
        client_id=dg.EnvVar("HUBSPOT_CLIENT_ID") if app else None,
        client_secret=dg.EnvVar("HUBSPOT_CLIENT_SECRET") if app else None,
        base_url=_env_or(settings, "hubspot_base_url", DEFAULT_HUBSPOT_URL),
        region=settings.aws_region,
        api_version=settings.hubspot_api_version,
        **hubspot_pacing.pacing_from_settings(settings),
        daily_reserve=settings.hubspot_daily_reserve,
        daily_hold_seconds=run_seconds,
    )
    partner_central = PartnerCentralResource(
        catalog=settings.partner_central_catalog,
        role_arn=_env_or(settings, "partner_central_role_arn", None),
        external_id=_env_or(settings, "partner_central_external_id", None),
        region=settings.aws_region,
        **pc_pacing.pacing_from_settings(settings),
        write_workers=settings.pc_write_workers,  # 0 or 1 applies rows one at a time
        writes_per_day=settings.pc_writes_per_day,
        quota_window_seconds=settings.pc_quota_window_seconds,
        write_reserve=settings.pc_write_reserve,
        reads_per_day=settings.pc_reads_per_day,
        read_reserve=settings.pc_read_reserve,
        run_budget_seconds=run_seconds,
        create_order=settings.create_order,
        default_solution_id=settings.partner_central_solution_id,
        ledger_url=state_url,
    )
    return {
        "hubspot": hubspot,
        "partner_central": partner_central,
        "sync_state": SyncStateResource(url=state_url),
        "mapping": MappingResource(config_path=settings.mapping_config),
        "io_manager": asset_store_io_manager(
            settings.asset_store_url_or_default(dagster_home),
            settings.aws_region,
            root=_env_or(settings, "asset_store_url", None),
        ),
    }


# The op jobs (sync_deals, submit_opportunity, sync_invitations) pass frames between their steps in
# memory: they run in one process (in_process_executor), and nothing of theirs is an asset output.
IN_MEMORY_IO = "in_memory_io_manager"
IN_MEMORY_RESOURCES: dict[str, Any] = {IN_MEMORY_IO: dg.mem_io_manager}
