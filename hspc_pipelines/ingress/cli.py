"""`hspc ingress`: serve the ingress app with uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any


class DropQueryString(logging.Filter):
    """uvicorn's access log without query strings: a caller who put a credential there (refused, see
    ingress/auth.py) must not leave it in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingress",
        help="serve the webhook / submit / solutions ingress (HTTP)",
        description="Serve the ingress app. Configured from the environment: HUBSPOT_CLIENT_SECRET, "
        "HSPC_EVENTS_QUEUE_URL, HSPC_PUBLIC_URL, HSPC_WEBHOOK_ACCEPT_VERSIONS, HSPC_INGRESS_MAX_BODY_BYTES, "
        "HSPC_INGRESS_API_TOKENS or HSPC_INGRESS_API_TOKENS_SSM_PARAMETER (or HSPC_INGRESS_AUTH=off for "
        "local use), HSPC_INGRESS_TOKEN_REFRESH_SECONDS, AWS_REGION.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from hspc_pipelines.ingress.asgi import app, load_app
    from hspc_pipelines.ingress.settings import IngressConfigError
    from hspc_pipelines.logs import configure_logging
    from hspc_pipelines.settings import load_settings

    try:
        load_app()  # configuration errors end here, before the port opens
    except IngressConfigError as exc:
        print(f"hspc ingress: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    configure_logging(settings)  # LOG_LEVEL and HSPC_LOG_FORMAT, as in the runs and the code location
    logging.getLogger("uvicorn.access").addFilter(DropQueryString())
    # log_config None: uvicorn's loggers keep no handler of their own and reach the hspc handler.
    # proxy_headers off: the signed URI comes from HSPC_PUBLIC_URL, never from client-supplied headers.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        proxy_headers=False,
        server_header=False,
        log_config=None,
        log_level=settings.log_level.lower(),
    )
    return 0
