"""A local HTTP receiver: records every request's method, path and JSON body, and answers with a
chosen status and JSON body (an alert webhook, or Slack's Web API for slack_sdk's `base_url`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    status: int = 200
    reply: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def bodies(self) -> list[Any]:
        return [body for _, _, body in self.requests]


def _parse(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type:
        return json.loads(raw)
    from urllib.parse import parse_qs

    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}  # form-encoded (slack_sdk's default)


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(
                (self.command, self.path, _parse(raw, self.headers.get("Content-Type", "")))
            )
            body = json.dumps(receiver.reply).encode()
            self.send_response(receiver.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="http-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
