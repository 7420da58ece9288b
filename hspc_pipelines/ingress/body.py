"""Read a request body with a size cap, refusing early on Content-Length and again while streaming."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body is larger than {limit} bytes")


class BadContentLength(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadContentLength("Content-Length must be a number of bytes")
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # chunked bodies carry no Content-Length: stop reading as soon as it is too much
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
