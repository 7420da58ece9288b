"""moto's S3 server in a subprocess, with one fresh bucket: the asset store's production shape.

A subprocess, not moto's ThreadedMotoServer: delta-rs holds the GIL in some calls (its pyarrow
file-system handler, table history), so an in-process moto thread could not answer them."""

from __future__ import annotations

import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3

from hspc_pipelines.emulators._server import free_port
from hspc_pipelines_tests.support.processes import kill_group, start_in_group, wait_for

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


@dataclass(frozen=True)
class MotoS3:
    endpoint: str
    bucket: str

    def env(self) -> dict[str, str]:
        """What the product's processes need to reach it (the standard AWS variables)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": REGION, **CREDENTIALS}

    def storage_options(self) -> dict[str, str]:
        """What a test's own deltalake reader needs."""
        return {**self.env(), "AWS_ALLOW_HTTP": "true"}

    def keys(self, prefix: str) -> list[str]:
        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                          aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def moto_s3_server() -> Iterator[MotoS3]:
    port = free_port("127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="hspc-moto-") as logs:
        log = (Path(logs) / "moto.log").open("wb")
        proc = start_in_group(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], {}, log
        )
        try:
            wait_for("moto's S3 server", lambda: _listening(port), timeout=60, interval=0.2)
            endpoint = f"http://127.0.0.1:{port}"
            bucket = f"hspc-store-{uuid.uuid4().hex[:8]}"
            boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                         aws_secret_access_key="test").create_bucket(Bucket=bucket)  # fmt: skip
            yield MotoS3(endpoint, bucket)
        finally:
            kill_group(proc)
            log.close()
