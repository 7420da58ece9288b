"""Dagster resources: thin wrappers that build one client per service and the shared state.

Configured from the environment with EnvVar, so secrets are read at run time and never stored in run
config. A secret may instead come from SSM Parameter Store (SecureString) through dagster-aws.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from hspc_pipelines.env_numbers import env_count
from hspc_pipelines.hubspot import pacing as hubspot_pacing
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping import MappingConfig, load_mapping_config
from hspc_pipelines.partner_central import pacing as pc_pacing
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.state.store import SyncStateStore

DEFAULT_WRITE_WORKERS = 4


def _ssm_secret(parameter: str) -> str:
    """Read a SecureString through dagster-aws's SSM resource (boto3 honours AWS_ENDPOINT_URL_SSM)."""
    from dagster_aws.ssm import SSMResource

    client = SSMResource(region_name=os.environ.get("AWS_REGION", "us-east-1")).get_client()
    return str(client.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])


class HubSpotResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """HubSpot CRM client. `access_token` or `access_token_ssm_parameter` must be set."""

    access_token: str | None = None
    access_token_ssm_parameter: str | None = None
    base_url: str = "https://api.hubapi.com"
    requests_per_10s: int = hubspot_pacing.DEFAULT_REQUESTS_PER_10S
    search_per_second: float = hubspot_pacing.DEFAULT_SEARCH_PER_SECOND
    bootstrap: bool = True

    _client: HubSpotClient | None = PrivateAttr(default=None)

    def get_client(self) -> HubSpotClient:
        if self._client is None:
            token = self.access_token
            if not token and self.access_token_ssm_parameter:
                token = _ssm_secret(self.access_token_ssm_parameter)
            if not token:
                raise dg.DagsterInvalidConfigError(
                    "HubSpot access token missing: set HUBSPOT_ACCESS_TOKEN or HSPC_HUBSPOT_TOKEN_SSM_PARAMETER",
                    [],
                    None,
                )
            client = HubSpotClient(
                token,
                self.base_url,
                requests_per_10s=self.requests_per_10s,
                search_per_second=self.search_per_second,
            )
            if self.bootstrap:
                # The properties hspc writes must exist before the first write; cheap when they do.
                bootstrap_properties(client)
            self._client = client
        return self._client


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

    _client: PartnerCentralClient | None = PrivateAttr(default=None)

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
        return self._client


class SyncStateResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The sync-state store (SQLAlchemy URL: SQLite locally, PostgreSQL in production)."""

    url: str

    _store: SyncStateStore | None = PrivateAttr(default=None)

    def get_store(self) -> SyncStateStore:
        if self._store is None:
            self._store = SyncStateStore(self.url)
        return self._store


class MappingResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Mapping configuration (stage maps, ownership, amount mode …) from a YAML/JSON file."""

    config_path: str | None = None

    _config: MappingConfig | None = PrivateAttr(default=None)

    def get_config(self) -> MappingConfig:
        if self._config is None:
            self._config = load_mapping_config(self.config_path or None)
        return self._config


def build_resources(dagster_home: str) -> dict[str, Any]:
    """Resources from the environment; names here are what the assets ask for."""
    from hspc_pipelines.defs.io import HspcDuckDBIOManager

    token_param = os.environ.get("HSPC_HUBSPOT_TOKEN_SSM_PARAMETER")
    hubspot = HubSpotResource(
        access_token=None if token_param else dg.EnvVar("HUBSPOT_ACCESS_TOKEN"),
        access_token_ssm_parameter=token_param,
        base_url=os.environ.get("HUBSPOT_BASE_URL", "https://api.hubapi.com"),
        **hubspot_pacing.pacing_from_env(),
    )
    partner_central = PartnerCentralResource(
        catalog=os.environ.get("PARTNER_CENTRAL_CATALOG", "AWS"),
        role_arn=os.environ.get("PARTNER_CENTRAL_ROLE_ARN") or None,
        external_id=os.environ.get("PARTNER_CENTRAL_EXTERNAL_ID") or None,
        region=os.environ.get("AWS_REGION", "us-east-1"),
        **pc_pacing.pacing_from_env(),
        # 0 or 1 applies rows one at a time.
        write_workers=env_count("HSPC_PC_WRITE_WORKERS", DEFAULT_WRITE_WORKERS, minimum=0),
        default_solution_id=os.environ.get("PARTNER_CENTRAL_SOLUTION_ID") or None,
    )
    state_url = (
        os.environ.get("HSPC_STATE_URL") or f"sqlite:///{os.path.join(dagster_home, 'hspc_state.sqlite')}"
    )
    duckdb_path = os.environ.get("HSPC_DUCKDB_PATH") or os.path.join(dagster_home, "hspc_history.duckdb")
    return {
        "hubspot": hubspot,
        "partner_central": partner_central,
        "sync_state": SyncStateResource(url=state_url),
        "mapping": MappingResource(config_path=os.environ.get("HSPC_MAPPING_CONFIG")),
        "io_manager": HspcDuckDBIOManager(database=duckdb_path, schema="hspc"),
    }
