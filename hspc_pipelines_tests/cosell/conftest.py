"""End-to-end fixtures: both emulators on loopback, the product's resources built from their environment,
and the co-sell jobs run in process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines_tests.support.cosell import CosellWorld


@pytest.fixture
def world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CosellWorld]:
    for name in (
        "HSPC_INVITATION_RULES",
        "HSPC_NOTIFY_TASKS",
        "HSPC_MAPPING_CONFIG",
        "PARTNER_CENTRAL_ROLE_ARN",
        "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER",
        "HSPC_STATE_URL",
        "HSPC_ASSET_STORE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HSPC_TASK_POLL_BUDGET_SECONDS", "10")
    with EmulatorStack() as stack:
        for key, value in stack.env.items():
            monkeypatch.setenv(key, value)
        home = str(tmp_path / "dagster_home")
        os.makedirs(home, exist_ok=True)
        world = CosellWorld(
            env=dict(stack.env), hubspot=stack.hubspot, partner_central=stack.partner_central, home=home
        )
        bootstrap_properties(world.hs())  # what HubSpotResource.ensure_properties does first in a run
        yield world
