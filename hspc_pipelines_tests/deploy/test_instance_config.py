"""deploy/dagster.yaml and deploy/dagster.local-postgres.yaml, checked by Dagster itself.

Schema validation (`dagster_instance_config`) covers the top level; the configurable classes
(storage, compute logs, run launcher) are validated against their own config types, with `env:`
values resolved; then real instances are built: the local one against a throwaway PostgreSQL, the
production one against PostgreSQL plus moto (ECS task definition, S3 bucket).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from dagster import DagsterInstance
from dagster._config import process_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import class_from_code_pointer

from hspc_pipelines_tests.support.paths import DEPLOY
from hspc_pipelines_tests.support.postgres import Postgres

PROD = "dagster.yaml"
LOCAL = "dagster.local-postgres.yaml"
CLASS_SECTIONS = ("run_coordinator", "run_launcher", "compute_logs")

ENV = {
    "DAGSTER_PG_HOST": "db.internal",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "secret",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_COMPUTE_LOGS_BUCKET": "hspc-data",
    "DAGSTER_COMPUTE_LOGS_PREFIX": "dagster/compute-logs",
    "DAGSTER_COMPUTE_LOGS_DIR": "/tmp/hspc-compute-logs",
    "DAGSTER_ECS_RUN_TASK_DEFINITION": "hspc-run",
}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / name).read_text())


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("name", [PROD, LOCAL])
def test_instance_yaml_validates(name: str, env: None) -> None:
    config, custom_class = dagster_instance_config(str(DEPLOY), name)
    assert custom_class is None
    assert config["concurrency"]["runs"] == {
        "max_concurrent_runs": 8,
        "tag_concurrency_limits": [{"key": "hspc/writes", "limit": 1}],
    }
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["run_retries"] == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_monitoring"]["start_timeout_seconds"] > 0
    assert config["run_monitoring"]["cancel_timeout_seconds"] > 0
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    pg = config["storage"]["postgres"]["postgres_db"]
    assert {k: pg[k] for k in ("hostname", "port", "username", "password", "db_name")} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USER"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }


@pytest.mark.parametrize("name", [PROD, LOCAL])
@pytest.mark.parametrize("section", CLASS_SECTIONS)
def test_configurable_classes_accept_their_config(name: str, section: str, env: None) -> None:
    """What dagster_instance_config leaves to instantiation: each class's own config type."""
    entry = load(name)[section]
    klass: Any = class_from_code_pointer(entry["module"], entry["class"])  # each has config_type()
    result = process_config(klass.config_type(), entry.get("config") or {})
    assert result.success, [e.message for e in result.errors or []]


def test_production_uses_ecs_and_s3(env: None) -> None:
    prod = load(PROD)
    assert (prod["run_launcher"]["module"], prod["run_launcher"]["class"]) == (
        "dagster_aws.ecs",
        "EcsRunLauncher",
    )
    assert (prod["compute_logs"]["module"], prod["compute_logs"]["class"]) == (
        "dagster_aws.s3.compute_log_manager",
        "S3ComputeLogManager",
    )
    assert prod["compute_logs"]["config"]["bucket"] == {"env": "DAGSTER_COMPUTE_LOGS_BUCKET"}
    assert prod["compute_logs"]["config"]["prefix"] == {"env": "DAGSTER_COMPUTE_LOGS_PREFIX"}


def test_local_differs_from_production_only_in_launcher_and_logs() -> None:
    prod, local = load(PROD), load(LOCAL)
    differing = {key for key in prod.keys() | local.keys() if prod.get(key) != local.get(key)}
    assert differing == {"run_launcher", "compute_logs"}
    assert local["run_launcher"]["class"] == "DefaultRunLauncher"
    assert local["compute_logs"]["class"] == "LocalComputeLogManager"


@pytest.mark.parametrize(
    ("section", "patch"),
    [
        ("concurrency", {"pools": {"default_limit": 1, "limits": {"partner_central_writes": 1}}}),
        ("run_retries", {"max_retries": 2, "retry_on_failure": False}),
        ("run_coordinator", None),
    ],
)
def test_validation_is_not_vacuous(tmp_path: Path, section: str, patch: Any, env: None) -> None:
    """Unknown keys, and run-queue limits in both places, are refused by the same validation."""
    config = load(PROD)
    if patch is None:  # limits in the coordinator too: Dagster refuses both places at once
        config["run_coordinator"]["config"]["max_concurrent_runs"] = 4
    else:
        config[section] = patch
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


def _instance_from(tmp_path: Path, name: str) -> DagsterInstance:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(DEPLOY / name, home / "dagster.yaml")
    return DagsterInstance.from_config(str(home))


def test_local_postgres_instance_starts_and_enforces_pools(
    tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_DIR", str(tmp_path / "logs"))
    instance = _instance_from(tmp_path, LOCAL)
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None
        assert queue.max_concurrent_runs == 8
        assert queue.tag_concurrency_limits == [{"key": "hspc/writes", "limit": 1}]
        assert instance.run_retries_max_retries == 2
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        storage = instance.event_log_storage
        for pool in ("partner_central_writes", "hubspot_writes"):
            info = storage.get_concurrency_info(pool)
            assert (info.limit, info.using_default_limit) == (1, True), pool
            # What Dagster does when a step of that pool is first queued: slots from default_limit.
            assert storage.initialize_concurrency_limit_to_default(pool)
            first = storage.claim_concurrency_slot(pool, "run-a", "apply")
            second = storage.claim_concurrency_slot(pool, "run-b", "apply")
            assert first.is_claimed and not second.is_claimed, pool
            storage.free_concurrency_slots_for_run("run-a")
            storage.free_concurrency_slots_for_run("run-b")
    finally:
        instance.dispose()


def test_production_instance_starts_with_ecs_launcher_and_s3_logs(
    tmp_path: Path, postgres: Postgres, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    ecs = boto3.client("ecs")
    arn = ecs.register_task_definition(
        family="hspc-run",
        containerDefinitions=[{"name": "run", "image": "hspc:test", "memory": 1024}],
    )["taskDefinition"]["taskDefinitionArn"]
    boto3.client("s3").create_bucket(Bucket="hspc-data")
    monkeypatch.setenv("DAGSTER_ECS_RUN_TASK_DEFINITION", "hspc-run")
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_BUCKET", "hspc-data")
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_PREFIX", "dagster/compute-logs")
    instance = _instance_from(tmp_path, PROD)
    try:
        launcher: Any = instance.run_launcher  # an EcsRunLauncher, checked by name below
        assert type(launcher).__name__ == "EcsRunLauncher"
        assert launcher.task_definition == arn  # resolved through ECS, container "run" checked
        logs: Any = instance.compute_log_manager  # an S3ComputeLogManager, checked by name below
        assert type(logs).__name__ == "S3ComputeLogManager"
        assert (logs._s3_bucket, logs._s3_prefix) == ("hspc-data", "dagster/compute-logs")
    finally:
        instance.dispose()


def test_workspace_points_at_the_code_location_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._core.workspace.config_schema import process_workspace_config

    monkeypatch.setenv("DAGSTER_CODE_LOCATION_HOST", "code-location.hspc.local")
    monkeypatch.setenv("DAGSTER_CODE_LOCATION_PORT", "4000")
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    result = process_workspace_config(workspace)
    assert result.success, [e.message for e in result.errors or []]
    config: Any = result.value
    (location,) = config["load_from"]
    assert location["grpc_server"]["location_name"] == "hspc"
    workspace["load_from"][0]["grpc_server"]["hots"] = "typo"
    assert not process_workspace_config(workspace).success
