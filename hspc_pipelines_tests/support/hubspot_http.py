"""A request to the HubSpot emulator as a person (or a script) would send it, with the stack's token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests


def hubspot_request(env: Mapping[str, str], method: str, path: str, **kw: Any) -> Any:
    """`method path` on `env`'s HUBSPOT_BASE_URL; the decoded JSON answer (None when empty).
    Raises for an error status, so a test never reads on after a refused call."""
    resp = requests.request(
        method,
        env["HUBSPOT_BASE_URL"] + path,
        timeout=30,
        headers={"Authorization": f"Bearer {env['HUBSPOT_ACCESS_TOKEN']}"},
        **kw,
    )
    resp.raise_for_status()
    return resp.json() if resp.content else None
