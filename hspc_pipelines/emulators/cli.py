"""`hspc emulate`: run the local stack and print `export` lines for a shell to eval."""

from __future__ import annotations

import argparse
import shlex
import threading
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="run the HubSpot and Partner Central emulators plus moto until Ctrl-C",
        description="Starts the local stack and prints `export VAR=value` lines; "
        "eval them in another shell to point the product at it.",
    )
    parser.add_argument("--deals", type=int, default=0, help="seed HubSpot with this many deals")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--catalog", default="AWS", choices=("AWS", "Sandbox"))
    parser.set_defaults(handler=run)


def export_lines(env: dict[str, str]) -> list[str]:
    return [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items())]


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    from hspc_pipelines.extras import emulator_stack

    EmulatorStack = emulator_stack("hspc emulate")  # moto may be missing: the extra installs it
    stop = stop or threading.Event()
    with EmulatorStack(deals=args.deals, seed=args.seed, host=args.host, catalog=args.catalog) as stack:
        print("\n".join(export_lines(stack.env)), flush=True)
        print("# emulators running; Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0
