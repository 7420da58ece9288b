"""Asset outputs on shared storage, the way production runs (issue 14): the Dagster instance from
deploy/dagster.local-postgres.yaml on PostgreSQL, the sync state in the same PostgreSQL, and
`HSPC_ASSET_STORE_URL` on moto's S3 server.

- In working directory A, with its own temporary DAGSTER_HOME, the Dagster CLI runs `reconcile` for
  one day. Then A (its DAGSTER_HOME included) is deleted.
- In working directory B, with another temporary DAGSTER_HOME, the Dagster CLI re-materializes
  `opportunity_creates` and `hubspot_deal_writes` for that day: they load `sync_plan` and
  `opportunity_updates` from the shared store, and succeed without a second opportunity.
- The control: the same re-materialization with the store unset (outputs under B's DAGSTER_HOME)
  fails, because nothing there holds `sync_plan`: the first run's outputs really came from S3.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from hspc_pipelines_tests.support.environment import product_env
from hspc_pipelines_tests.support.processes import REPO, venv_bin
from hspc_pipelines_tests.support.seeded import Seeded

CLI_TIMEOUT = 300
STORE_TABLES = {
    "hubspot_deals",
    "sync_plan",
    "opportunity_creates",
    "opportunity_updates",
    "hubspot_deal_writes",
}


def _busiest_day(seeded: Seeded) -> str:
    days = Counter(d["properties"]["hs_lastmodifieddate"][:10] for d in seeded.data.deals)
    return max(sorted(days), key=lambda d: len(seeded.cosell_ids_modified(d, d)))


def _dagster(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv_bin("dagster"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT
    )


def _place(tmp_path: Path, name: str, env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A working directory with its own DAGSTER_HOME holding the local-PostgreSQL instance file."""
    work = tmp_path / name
    home = work / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO / "deploy" / "dagster.local-postgres.yaml", home / "dagster.yaml")
    return work, {
        **env,
        "DAGSTER_HOME": str(home),
        "DAGSTER_COMPUTE_LOGS_DIR": str(work / "logs"),
        # The code, as an installed package would provide it (not A's or B's files).
        "PYTHONPATH": str(REPO),
    }


def test_a_day_reconciled_in_one_place_is_re_materialized_from_the_shared_store_in_another(
    tmp_path: Path, seeded: Seeded, pg_database: dict[str, str]
) -> None:
    stack = seeded.stack
    bucket = "hspc-outputs"
    stack.aws_client("s3").create_bucket(Bucket=bucket)
    state_url = (
        f"postgresql+psycopg2://{pg_database['DAGSTER_PG_USER']}@{pg_database['DAGSTER_PG_HOST']}:"
        f"{pg_database['DAGSTER_PG_PORT']}/{pg_database['DAGSTER_PG_DB']}"
    )
    base = {
        **product_env(stack, tmp_path / "unused"),
        **pg_database,
        "HSPC_STATE_URL": state_url,
        "HSPC_ASSET_STORE_URL": f"s3://{bucket}/hspc",
    }
    day = _busiest_day(seeded)
    expected = seeded.cosell_ids_modified(day, day)
    assert expected

    work_a, env_a = _place(tmp_path, "a", base)
    done = _dagster(
        ["job", "execute", "-m", "hspc_pipelines.definitions", "-j", "reconcile",
         "--tags", json.dumps({"dagster/partition": day})],
        work_a, env_a,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(seeded.opportunities()) == len(expected)
    keys = [o["Key"] for o in stack.aws_client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert {k.split("/")[2] for k in keys if k.startswith("hspc/hspc/")} >= STORE_TABLES, keys
    shutil.rmtree(work_a)  # B has no access to A's files

    select = ["asset", "materialize", "-m", "hspc_pipelines.definitions",
              "--select", "opportunity_creates,hubspot_deal_writes", "--partition", day]  # fmt: skip
    work_b, env_b = _place(tmp_path, "b", base)
    again = _dagster(select, work_b, env_b)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "RUN_SUCCESS" in again.stderr + again.stdout
    assert len(seeded.opportunities()) == len(expected)  # the plan was read, not re-created

    # The control: without the shared store, B has no `sync_plan` to load and the run fails.
    work_c, env_c = _place(tmp_path, "c", {k: v for k, v in base.items() if k != "HSPC_ASSET_STORE_URL"})
    alone = _dagster(select, work_c, env_c)
    assert alone.returncode != 0
    assert "sync_plan" in alone.stdout + alone.stderr


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every variable reaches the CLI through its own environment, never this process's.
    monkeypatch.delenv("HSPC_ASSET_STORE_URL", raising=False)
