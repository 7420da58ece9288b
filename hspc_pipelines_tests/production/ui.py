"""`dagster dev` on a loopback port with the product's environment, its GraphQL API, and headless
Chromium. Used by test_webserver_backfill.py and scripts/screenshot_asset_graph.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from .conftest import REPO, dagster_bin, kill_group, wait_for, workspace_file

CHROMIUM = Path("/usr/bin/chromium")
LOCATION = "hspc_pipelines.definitions"
RECONCILE_ASSETS = (
    "hubspot_deals",
    "partner_central_opportunities",
    "partner_central_solutions",
    "sync_plan",
    "opportunity_creates",
    "opportunity_updates",
    "hubspot_deal_writes",
)
# How the group's graph labels the external HubSpot / Partner Central assets it reads and writes.
EXTERNAL_LABELS = ("deals", "companies", "contacts", "opportunities", "solutions")
# The reconcile group's lineage page (the asset graph of the reconcile assets and the external
# HubSpot / Partner Central assets around them).
GRAPH_PATH = f"/locations/{LOCATION}/asset-groups/reconcile/lineage"

WORKSPACE_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}
"""
BACKFILL = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status isAssetBackfill partitionNames
      assetSelection { path }
      runs { runId status tags { key value } }
      error { message }
    }
    ... on PythonError { message }
  }
}
"""
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevServer:
    """`dagster dev` (webserver + daemon + code server) in its own process group, killed on exit."""

    def __init__(self, home: Path, env: dict[str, str], log: Path, extra_instance_yaml: str = "") -> None:
        self.home, self.env, self.log_path = home, env, log
        self.extra_instance_yaml = extra_instance_yaml
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DevServer:
        self.home.mkdir(parents=True, exist_ok=True)
        # The local (SQLite) instance, as shipped.
        instance_yaml = (REPO / "dagster.yaml").read_text() + self.extra_instance_yaml
        (self.home / "dagster.yaml").write_text(instance_yaml)
        workspace = workspace_file(self.home)
        args = [dagster_bin("dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(self.port)]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            args, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for("the Dagster UI and its code location", self._loaded, 120, interval=1.0)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.proc is None:
            return
        kill_group(self.proc, grace=15.0)
        self._log.close()
        self.proc = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def _loaded(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError("dagster dev exited:\n" + self.log_tail())
        try:
            data = self.graphql(WORKSPACE_QUERY, timeout=5)
        except (requests.RequestException, AssertionError):
            return False
        entries = data["workspaceOrError"].get("locationEntries") or []
        for entry in entries:
            loaded = entry["locationOrLoadError"]
            if entry["name"] == LOCATION and loaded and loaded["__typename"] == "PythonError":
                raise AssertionError(f"code location failed to load: {loaded['message']}")
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED":
                return True
        return False

    def graphql(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        resp = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout
        )
        resp.raise_for_status()
        body = resp.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


def chromium(
    url: str, *, screenshot: Path | None = None, window: str = "1600,1000", timeout: float = 90
) -> str:
    """Headless Chromium on `url`: the DOM after 15 s of virtual time (and a screenshot if asked)."""
    with tempfile.TemporaryDirectory(prefix="hspc-chromium-") as profile:
        args = [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={window}",
            "--virtual-time-budget=15000",
        ]
        args += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        proc = subprocess.Popen(
            [*args, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc.returncode != 0:
            raise AssertionError(f"chromium exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
        return out.decode(errors="replace")
