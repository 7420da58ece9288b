"""The `hspc` command.

Each feature owns its sub-commands in a module exposing `register(subparsers)`; the module sets
`handler` (a callable taking the parsed args and returning an exit code) with `set_defaults`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that add sub-commands.
COMMAND_MODULES = (
    "hspc_pipelines.emulators.cli",  # hspc emulate
    "hspc_pipelines.ingress.cli",  # hspc ingress
    "hspc_pipelines.reconcile.cli",  # hspc run
    "hspc_pipelines.dev",  # hspc dev
    "hspc_pipelines.hubspot.cli",  # hspc bootstrap
    "hspc_pipelines.solutions.cli",  # hspc solutions
    "hspc_pipelines.settings_cli",  # hspc config
    "hspc_pipelines.history.cli",  # hspc history
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hspc", description="HubSpot <-> AWS Partner Central co-sell sync")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
