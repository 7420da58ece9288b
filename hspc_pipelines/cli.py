"""The `hspc` command.

Each feature owns its sub-commands in a module exposing `register(subparsers)`; the module sets
`handler` (a callable taking the parsed args and returning an exit code) with `set_defaults`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from hspc_pipelines.extras import MissingExtraError, missing_emulators

EMULATORS_CLI = "hspc_pipelines.emulators.cli"
# Modules that add sub-commands.
COMMAND_MODULES = (
    EMULATORS_CLI,  # hspc emulate (only with the emulators extra)
    "hspc_pipelines.ingress.cli",  # hspc ingress
    "hspc_pipelines.reconcile.cli",  # hspc run
    "hspc_pipelines.reconcile.sync",  # hspc sync
    "hspc_pipelines.dev",  # hspc dev
    "hspc_pipelines.hubspot.cli",  # hspc bootstrap
    "hspc_pipelines.solutions.cli",  # hspc solutions
    "hspc_pipelines.settings_cli",  # hspc config
    "hspc_pipelines.history.cli",  # hspc history
    "hspc_pipelines.doctor.cli",  # hspc doctor
)


def _register_emulate_without_emulators(subparsers: Any) -> None:
    """`hspc emulate` where the emulators are not installed (the production image): it still shows in
    the help, and says which extra to install."""
    # Its options live with the emulators: take every argument as it comes ("\0" is no option prefix).
    parser = subparsers.add_parser(
        "emulate", help="(needs the emulators extra) run the local emulators", prefix_chars="\0"
    )
    parser.add_argument("ignored", nargs="*", help=argparse.SUPPRESS)

    def handler(args: argparse.Namespace) -> int:
        raise missing_emulators("hspc emulate", "hspc_pipelines.emulators")

    parser.set_defaults(handler=handler)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hspc", description="HubSpot <-> AWS Partner Central co-sell sync")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if name != EMULATORS_CLI or exc.name not in ("hspc_pipelines.emulators", EMULATORS_CLI):
                raise
            _register_emulate_without_emulators(subparsers)
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args))
    except MissingExtraError as exc:
        print(f"hspc {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
