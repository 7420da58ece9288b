"""The AWS stack template as the deploy tests read it (cfn-lint's decoder: intrinsic tags kept)."""

from __future__ import annotations

import json
from typing import Any

from cfnlint.decode import decode_str

from hspc_pipelines_tests.support.paths import DEPLOY

TEMPLATE = DEPLOY / "cloudformation.yaml"
ACTIONS = DEPLOY / "partner_central_actions.txt"  # the Partner Central actions the code calls


def template() -> dict[str, Any]:
    decoded, matches = decode_str(TEMPLATE.read_text())
    assert not matches, matches
    return dict(json.loads(json.dumps(decoded, default=str)))


def listed_actions() -> list[str]:
    return [line.strip() for line in ACTIONS.read_text().splitlines() if line.strip()]
