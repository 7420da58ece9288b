"""Read a request body with a size cap, refusing early on Content-Length and again while streaming.

A refused body is never read to the end: the 413 goes out at once and asks the server to close the
connection, so a client cannot keep streaming a body nobody will read.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request


def raw_json_body(schema: str) -> dict[str, Any]:
    """The document's requestBody for a route that reads its body raw (never FastAPI): required JSON
    described by the named component schema, the model the handler validates with."""
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


class BodyError(Exception):
    """The body cannot be used. `status` and `headers` are the answer to give; the message is safe to show."""

    status = 400
    headers: dict[str, str] | None = None


class BodyTooLarge(BodyError):
    status = 413
    headers = {"Connection": "close"}  # the rest of the body is not read: end the connection after the 413

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body is larger than {limit} bytes")


class BadContentLength(BodyError):
    pass


class BodyIncomplete(BodyError):
    """The client went away before sending the whole body (nobody reads the answer)."""


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.strip().isascii() and declared.strip().isdigit()):
            raise BadContentLength("Content-Length must be a number of bytes")
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:  # chunked bodies carry no Content-Length: stop reading as soon as it is too much
                raise BodyTooLarge(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyIncomplete("the connection closed before the request body was complete") from None
    return b"".join(chunks)
