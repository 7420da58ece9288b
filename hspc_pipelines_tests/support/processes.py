"""Subprocesses in their own process group, always killed group-wide, and polling with a deadline."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from hspc_pipelines_tests.support.paths import REPO

T = TypeVar("T")


def venv_bin(name: str) -> str:
    """A console script installed beside this interpreter (`dagster`, `hspc` …), else from PATH."""
    path = Path(sys.executable).with_name(name)
    return str(path) if path.exists() else (shutil.which(name) or name)


def wait_for(
    what: str,
    check: Callable[[], T | None],
    timeout: float,
    interval: float = 1.0,
    *,
    error: type[Exception] = AssertionError,
) -> T:
    """Poll `check` until it returns something truthy; raise `error` naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise error(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def start_in_group(args: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """`args` in the repository, output to `log`, in a new session so `kill_group` reaches its children."""
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def kill_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process's group, wait up to `grace` seconds, then SIGKILL what is left of the
    group (run workers, code servers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def log_tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


class Processes:
    """Subprocesses in their own process groups, each logging to `<logs>/<name>.log`; all killed
    (group-wide) by `stop_all`."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = start_in_group(args, env, log)
        self.procs.append((proc, log))
        return proc

    def log_tail(self, name: str, chars: int = 4000) -> str:
        return log_tail(self.logs / f"{name}.log", chars)

    def stop_all(self, grace: float = 10.0) -> None:
        for proc, log in self.procs:
            kill_group(proc, grace)
            log.close()
