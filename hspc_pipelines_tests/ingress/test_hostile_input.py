"""Hostile framing over raw sockets: oversized bodies are refused before they are read, a client that hangs
up mid-body is not a server error, and odd paths get a JSON 404 rather than a redirect."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import MutableMapping
from typing import Any

import pytest

from hspc_pipelines.ingress.app import create_app
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines_tests.support.ingress import API_TOKEN, SECRET, ListSource

LIMIT = 1000
HUGE = 50 * 1024 * 1024  # declared, never sent


def _open(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of the answer"
        body += chunk
    return int(status_line.split()[1]), headers, body


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("path", ["/webhook/hubspot", "/submit-opportunity"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_oversized_bodies_get_413_before_the_body_is_read(make_ingress, path: str, framing: str) -> None:
    """The client sends only the start of the body and waits: the 413 must come anyway, and the server
    then closes the connection instead of reading (and discarding) the rest."""
    ingress = make_ingress(max_body_bytes=LIMIT)
    sock = _open(ingress.url)
    if framing == "content-length":  # refused on the declared length alone: 10 bytes of 50 MiB sent
        head, sent = f"Content-Length: {HUGE}\r\n", b"[" * 10
    else:  # no length declared: refused while streaming, as soon as the chunks pass the limit
        head, sent = (
            "Transfer-Encoding: chunked\r\n",
            b"".join(b"190\r\n" + b" " * 400 + b"\r\n" for _ in range(3)),
        )
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {ingress.url[7:]}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {API_TOKEN}\r\n{head}\r\n"
    )
    started = time.monotonic()
    sock.sendall(request.encode() + sent)  # ...and nothing more: no end of body ever comes
    status, headers, body = _read_response(sock)
    assert time.monotonic() - started < 2
    assert status == 413 and headers["content-type"] == "application/json"
    assert b"larger than 1000 bytes" in body
    assert headers.get("connection") == "close" and _closed_by_server(sock)
    sock.close()
    assert ingress.queue.depth() == 0


def test_a_client_that_hangs_up_mid_body_is_not_a_server_error() -> None:
    """Regression: starlette's ClientDisconnect reached the catch-all handler, which logged an ERROR with a
    stack trace and answered 500. Driven through the ASGI interface so the disconnect is exact."""
    app = create_app(
        IngressSettings(
            client_secret=SECRET, queue_url="http://127.0.0.1:1/q", max_body_bytes=LIMIT, api_token=API_TOKEN
        ),
        sqs_client=_NoQueue(),
        solutions_source=ListSource([]),
    )
    for path in ("/webhook/hubspot", "/submit-opportunity"):
        messages: list[dict[str, Any]] = [
            {"type": "http.request", "body": b'[{"eventId": 1', "more_body": True},
            {"type": "http.disconnect"},
        ]
        sent: list[MutableMapping[str, Any]] = []

        async def receive(messages: list[dict[str, Any]] = messages) -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(
            message: MutableMapping[str, Any], sent: list[MutableMapping[str, Any]] = sent
        ) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [
                (b"host", b"ingress"),
                (b"content-length", b"100"),
                (b"authorization", f"Bearer {API_TOKEN}".encode()),
            ],
            "server": ("ingress", 80),
            "client": ("127.0.0.1", 5000),
        }
        records = _Records()
        logging.getLogger().addHandler(records)
        try:
            asyncio.run(app(scope, receive, send))
        finally:
            logging.getLogger().removeHandler(records)
        start = next(m for m in sent if m["type"] == "http.response.start")
        assert start["status"] == 400, sent
        assert not [r for r in records.records if r.levelno >= logging.ERROR or r.exc_info], records.records


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _NoQueue:
    def send_message(self, **kwargs: Any) -> dict[str, str]:
        raise AssertionError("an incomplete body must never be queued")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/solutions/"),
        ("GET", "/healthz/"),
        ("POST", "/webhook/hubspot/"),
        ("POST", "/submit-opportunity/"),
    ],
)
def test_a_trailing_slash_is_a_json_404_not_a_redirect(make_ingress, method: str, path: str) -> None:
    """Regression: starlette answered 307 with a Location built from the client's Host header."""
    ingress = make_ingress()
    response = ingress.http.request(
        method, ingress.url + path, data=b"[]", headers={"Host": "evil.example"}, allow_redirects=False
    )
    assert response.status_code == 404 and "location" not in response.headers
    assert response.headers["content-type"] == "application/json" and "error" in response.json()
    assert ingress.queue.depth() == 0
