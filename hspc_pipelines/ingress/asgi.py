"""`app`: the ingress configured from the environment, built on its first request.

Lazy so that importing this module (uvicorn, tests, `hspc --help`) never needs the environment; `hspc
ingress` calls `load_app()` before serving so a configuration error stops the process at start-up.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.applications import Starlette

from hspc_pipelines.ingress.app import create_app
from hspc_pipelines.ingress.settings import IngressSettings

_lock = threading.Lock()
_app: Starlette | None = None


def load_app() -> Starlette:
    global _app
    with _lock:
        if _app is None:
            _app = create_app(IngressSettings.from_env())
        return _app


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await load_app()(scope, receive, send)
