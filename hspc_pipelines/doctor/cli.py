"""`hspc doctor`: one line per check of the real setup, with what to do when it fails; exit 0 only when
every check holds."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check the HubSpot token, properties, pipelines, Partner Central, queue, stores"
    )
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from hspc_pipelines.doctor.checks import run_checks
    from hspc_pipelines.settings import load_settings

    failed = 0
    for result in run_checks(load_settings()):
        print(result.line(), flush=True)
        failed += not result.ok
    print(f"{failed} of the checks failed" if failed else "every check holds")
    return 1 if failed else 0
