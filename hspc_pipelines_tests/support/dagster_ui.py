"""The Dagster UI's GraphQL operations and pages the tests use, and headless Chromium.
Used by production/test_webserver_backfill.py and scripts/screenshot_asset_graph.py."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from hspc_pipelines_tests.support.dagster_dev import LOCATION

CHROMIUM = Path("/usr/bin/chromium")
# How the group's graph labels the external HubSpot / Partner Central assets it reads and writes.
EXTERNAL_LABELS = ("deals", "companies", "contacts", "opportunities", "solutions")
# The reconcile group's lineage page (the asset graph of the reconcile assets and the external
# HubSpot / Partner Central assets around them).
GRAPH_PATH = f"/locations/{LOCATION}/asset-groups/reconcile/lineage"

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
