"""`hspc dev`: the Dagster UI and daemon on this machine, and the environment `hspc run` shares with it.

With no HubSpot token configured, both start the local emulators with seeded data first, so a fresh
machine shows the product working before it gets real credentials.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hspc_pipelines.settings import dagster_home, load_settings

DEMO_DEALS = 60
REPO = Path(__file__).resolve().parents[1]


def register(subparsers: Any) -> None:
    dev = subparsers.add_parser("dev", help="the Dagster UI and daemon (with emulators when no token)")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--deals", type=int, default=DEMO_DEALS)
    dev.set_defaults(handler=cmd_dev)


@contextlib.contextmanager
def product_environment(deals: int) -> Iterator[bool]:
    """Yield True when the local emulators were started because no HubSpot token is configured."""
    settings = load_settings()
    if settings.hubspot_access_token or settings.hubspot_token_ssm_parameter or settings.hubspot_client_id:
        yield False
        return
    from hspc_pipelines.extras import emulator_stack

    # Only the demo needs the emulators (the emulators extra); with a token nothing imports them.
    EmulatorStack = emulator_stack("Running without HUBSPOT_ACCESS_TOKEN (the demo on local emulators)")
    print(f"HUBSPOT_ACCESS_TOKEN is not set: starting the local emulators with {deals} seeded deals.")
    with EmulatorStack(deals=deals, seed=0) as stack:
        # The emulators' addresses become this process's environment: the code it runs, and the
        # `dagster dev` it starts, read them as they would read a real deployment's.
        saved = {k: os.environ.get(k) for k in stack.env}
        os.environ.update(stack.env)
        try:
            yield True
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def cmd_dev(args: argparse.Namespace) -> int:
    dagster_home()
    from hspc_pipelines.defs.event_batching import apply_range_run_env

    apply_range_run_env()  # the webserver and daemon create runs and log their planned events
    with product_environment(args.deals):
        cmd = [
            str(Path(sys.executable).with_name("dagster")),
            "dev",
            "-w",
            str(REPO / "workspace.yaml"),
            "-p",
            str(args.port),
            "-h",
            "127.0.0.1",
        ]
        return subprocess.call(cmd, cwd=REPO)
