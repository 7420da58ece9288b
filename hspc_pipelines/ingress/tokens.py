"""The ingress's bearer tokens: parsed from the settings or an SSM parameter, re-read while running.

Several tokens are valid at once so a rotation has no moment where callers are refused: add the new
token, move the callers, remove the old one. Each token has an id for the audit trail (`id:token`, or
the first 12 hex digits of its SHA-256): the id is recorded, the token never is.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

MIN_TOKEN_CHARS = 16  # below this a token can be guessed; `secrets.token_urlsafe(32)` gives 43
MAX_TOKEN_CHARS = 512
_LABELLED = re.compile(r"([A-Za-z0-9_.-]{1,40}):(.+)", re.S)
# SSM is read at start and then in the background of a request: short timeouts, a few attempts.
SSM_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 3})


class TokenConfigError(ValueError):
    """The tokens cannot be used. The message names the source and the entry, never a token."""


@dataclass(frozen=True)
class ApiToken:
    id: str
    value: bytes = field(repr=False)


def token_id(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


def parse_tokens(text: str, source: str, *, min_chars: int = MIN_TOKEN_CHARS) -> tuple[ApiToken, ...]:
    """Comma-separated entries, each `token` or `id:token` (a token holding ':' needs the `id:` form)."""
    tokens: list[ApiToken] = []
    for number, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        if not entry:
            continue
        labelled = _LABELLED.fullmatch(entry)
        value = labelled.group(2).strip() if labelled else entry
        if not min_chars <= len(value) <= MAX_TOKEN_CHARS:
            raise TokenConfigError(
                f"{source}: entry {number} has a token of {len(value)} characters; "
                f"allowed: {min_chars} to {MAX_TOKEN_CHARS} (value hidden)"
            )
        if not value.isascii() or not value.isprintable() or " " in value:
            raise TokenConfigError(
                f"{source}: entry {number} is not a bearer token; allowed: printable ASCII without spaces"
            )
        tokens.append(ApiToken(labelled.group(1) if labelled else token_id(value), value.encode("ascii")))
    ids = [t.id for t in tokens]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise TokenConfigError(f"{source}: token id(s) {duplicates} appear twice; allowed: one entry per id")
    if not tokens:
        raise TokenConfigError(f"{source} holds no token; allowed: comma-separated `token` or `id:token`")
    return tuple(tokens)


def match_token(presented: bytes, tokens: Sequence[ApiToken]) -> ApiToken | None:
    """The token equal to `presented`, compared in constant time against every token (no early exit,
    so the answer's timing tells nothing about which token came close)."""
    found = None
    for token in tokens:
        if hmac.compare_digest(presented, token.value):
            found = token
    return found


def make_ssm_client(region: str) -> Any:
    # boto3 reads AWS_ENDPOINT_URL_SSM itself (moto locally).
    return boto3.client("ssm", region_name=region, config=SSM_CONFIG)


class TokenSource:
    """The tokens valid now: fixed ones, or the SSM parameter's, re-read every `refresh_seconds`.

    A failed re-read keeps the tokens last read (a throttled SSM must not lock every caller out) and
    logs the error's type; the first read must succeed (`load`), so a missing parameter stops the start.
    """

    def __init__(
        self,
        fixed: Sequence[ApiToken] = (),
        *,
        parameter: str | None = None,
        ssm_client: Any = None,
        region: str = "us-east-1",
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parameter = parameter
        self._tokens = tuple(fixed)
        self._client = ssm_client
        self._region = region
        self._refresh = refresh_seconds
        self._clock = clock
        self._read_at: float | None = None
        self._lock = threading.Lock()
        self.reads = 0  # SSM reads made (for tests and the start-up log)

    def _read(self) -> tuple[ApiToken, ...]:
        assert self.parameter is not None
        if self._client is None:
            self._client = make_ssm_client(self._region)
        source = f"SSM parameter {self.parameter} (HSPC_INGRESS_API_TOKENS_SSM_PARAMETER)"
        try:
            answer = self._client.get_parameter(Name=self.parameter, WithDecryption=True)
        except (BotoCoreError, ClientError) as exc:
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
            raise TokenConfigError(f"{source} cannot be read: {type(exc).__name__} {code}".rstrip()) from None
        self.reads += 1
        return parse_tokens(str(answer["Parameter"]["Value"]), source)

    def load(self) -> tuple[ApiToken, ...]:
        """The first read (raises TokenConfigError); fixed tokens need none."""
        if self.parameter is not None:
            with self._lock:
                self._tokens, self._read_at = self._read(), self._clock()
        return self._tokens

    @property
    def due(self) -> bool:
        return self.parameter is not None and (
            self._read_at is None or self._clock() - self._read_at >= self._refresh
        )

    def current(self) -> tuple[ApiToken, ...]:
        """The tokens, re-read first when due (blocking: call it from a worker thread). While one
        request re-reads, the others go on with the tokens last read instead of queueing behind a
        slow SSM."""
        if self.due and self._lock.acquire(blocking=not self._tokens):
            try:
                if self.due:  # another thread may have refreshed while this one waited
                    try:
                        fresh = self._read()
                    except TokenConfigError as exc:
                        log.warning("ingress tokens not refreshed, the last ones stay valid: %s", exc)
                        fresh = self._tokens
                    self._tokens, self._read_at = fresh, self._clock()
            finally:
                self._lock.release()
        return self._tokens

    @property
    def tokens(self) -> tuple[ApiToken, ...]:
        """The tokens as last read, without reading."""
        return self._tokens
