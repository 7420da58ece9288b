"""`hspc config`: the configuration table (the README's, generated from `Settings`), or with `--check`
whether this environment's values can be used."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hspc_pipelines.settings import SettingsError, configuration_table, load_settings


def register(subparsers: Any) -> None:
    config = subparsers.add_parser("config", help="the environment variables hspc reads (markdown table)")
    config.add_argument("--check", action="store_true", help="validate this environment's values instead")
    config.set_defaults(handler=cmd_config)


def cmd_config(args: argparse.Namespace) -> int:
    if not args.check:
        print(configuration_table(), end="")
        return 0
    from hspc_pipelines.hubspot.auth import auth_mode

    try:
        auth_mode(load_settings())  # the HubSpot credential: ambiguous or incomplete is an error too
    except SettingsError as exc:
        print(f"hspc config: {exc}", file=sys.stderr)
        return 2
    print("configuration ok")
    return 0
