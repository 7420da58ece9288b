"""checkov (pinned in deploy/checkov-requirements.txt, installed by `make tools` into .tools/checkov
because its own pins conflict with the project's) finds nothing in the template, and every
suppression in the template is justified and still needed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hspc_pipelines_tests.support.cloudformation import template
from hspc_pipelines_tests.support.paths import DEPLOY, REPO

TEMPLATE = DEPLOY / "cloudformation.yaml"


def _checkov() -> str | None:
    tools = REPO / ".tools" / "checkov" / "bin" / "checkov"
    if tools.exists():
        return str(tools)
    return shutil.which("checkov")


def _suppressions() -> dict[tuple[str, str], str]:
    out = {}
    for name, resource in template()["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            out[(skip["id"], name)] = skip.get("comment", "")
    return out


def test_every_suppression_is_justified() -> None:
    suppressions = _suppressions()
    assert suppressions, "expected the documented suppressions"
    for (check, resource), comment in suppressions.items():
        assert len(comment.split()) >= 8, f"{check} on {resource}: say why in the comment"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov is not installed: `make tools` installs it into .tools/checkov")
    result = subprocess.run(
        [checkov, "-f", str(TEMPLATE), "--framework", "cloudformation", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
        timeout=300,
    )
    assert result.stdout, result.stderr[-2000:]
    parsed = json.loads(result.stdout)
    return dict(parsed if isinstance(parsed, dict) else parsed[0])


def test_checkov_finds_nothing(report: dict[str, Any]) -> None:
    # Without a Prisma Cloud key checkov reports no severities, so every failed check counts.
    failed = [(f["check_id"], f["resource"], f["check_name"]) for f in report["results"]["failed_checks"]]
    assert not failed
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 100  # the template was really checked


def test_every_suppression_is_still_needed(report: dict[str, Any]) -> None:
    skipped = {(s["check_id"], s["resource"].split(".", 1)[1]) for s in report["results"]["skipped_checks"]}
    assert skipped == set(_suppressions())


def test_tools_pin_matches_the_installed_checkov() -> None:
    pinned = (DEPLOY / "checkov-requirements.txt").read_text().split("==")[1].strip()
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov is not installed: `make tools` installs it into .tools/checkov")
    version = subprocess.run([checkov, "--version"], capture_output=True, text=True).stdout.strip()
    assert version == pinned
    assert Path(checkov).exists()
