"""The product's environment pointed at the emulator stack, with pacing the emulators need no quota for."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from hspc_pipelines.emulators.stack import EmulatorStack

# Fast client pacing: the emulators have no quota unless a test sets one.
FAST_ENV = {
    "HSPC_PC_WRITES_PER_SECOND": "500",
    "HSPC_PC_READS_PER_SECOND": "1000",
    "HSPC_HUBSPOT_REQUESTS_PER_10S": "100000",
    "HSPC_HUBSPOT_SEARCH_PER_SECOND": "1000",
}


def product_env(
    stack: EmulatorStack, home: Path, *, pacing: Mapping[str, str] = FAST_ENV, **extra: str
) -> dict[str, str]:
    """The environment Dagster's processes (and the ingress) run the product with: this process's
    environment without its own AWS/HSPC/HubSpot/Dagster settings, then the stack's, then `pacing`."""
    prefixes = ("AWS_", "HSPC_", "HUBSPOT_", "DAGSTER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**env, **stack.env, **pacing, "DAGSTER_HOME": str(home), **extra}
