"""`hspc ingress`: serve the ingress app with uvicorn."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingress",
        help="serve the webhook / submit / solutions ingress (HTTP)",
        description="Serve the ingress app. Configured from the environment: HUBSPOT_CLIENT_SECRET, "
        "HSPC_EVENTS_QUEUE_URL, HSPC_PUBLIC_URL, HSPC_WEBHOOK_ACCEPT_VERSIONS, HSPC_INGRESS_MAX_BODY_BYTES, "
        "HSPC_INGRESS_API_TOKEN, AWS_REGION.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from hspc_pipelines.ingress.asgi import app, load_app
    from hspc_pipelines.ingress.settings import IngressConfigError

    try:
        load_app()  # configuration errors end here, before the port opens
    except IngressConfigError as exc:
        print(f"hspc ingress: {exc}", file=sys.stderr)
        return 2
    # proxy_headers off: the signed URI comes from HSPC_PUBLIC_URL, never from client-supplied headers.
    uvicorn.run(
        app, host=args.host, port=args.port, proxy_headers=False, server_header=False, log_level="info"
    )
    return 0
