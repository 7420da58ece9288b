"""`dagster dev` on a loopback port in a DAGSTER_HOME of its own, and its GraphQL API."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import requests
import yaml

from hspc_pipelines.emulators._server import free_port

from .processes import REPO, kill_group, log_tail, start_in_group, venv_bin, wait_for

LOCATION = "hspc_pipelines.definitions"
WORKSPACE_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def workspace_file(directory: Path) -> Path:
    """workspace.yaml as the repository ships it, with `attribute: defs` added to module entries that
    lack it: hspc_pipelines.definitions has two Definitions objects at module scope (`defs` and the
    imported `cosell_defs`), which Dagster's autodiscovery refuses. Harmless once the module is fixed.
    The location keeps the module's name."""
    spec = yaml.safe_load((REPO / "workspace.yaml").read_text())
    for entry in spec["load_from"]:
        module = entry.get("python_module")
        if isinstance(module, dict):
            module.setdefault("attribute", "defs")
            module.setdefault("location_name", module["module_name"])
            module["working_directory"] = str(REPO)
    path = directory / "workspace.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


class DevServer:
    """`dagster dev` (webserver + daemon + code server) in its own process group, killed on close.

    The repository's dagster.yaml (SQLite) plus `extra_instance_yaml` is the instance."""

    error: type[Exception] = AssertionError  # what a failure raises (tests: a failed assertion)
    load_timeout = 120.0
    stop_grace = 15.0

    def __init__(self, home: Path, env: dict[str, str], log: Path, extra_instance_yaml: str = "") -> None:
        self.home, self.env, self.log_path = home, env, log
        self.extra_instance_yaml = extra_instance_yaml
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Self:
        self.home.mkdir(parents=True, exist_ok=True)
        instance_yaml = (REPO / "dagster.yaml").read_text() + self.extra_instance_yaml
        (self.home / "dagster.yaml").write_text(instance_yaml)
        workspace = workspace_file(self.home)
        args = [venv_bin("dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(self.port)]
        self._log = self.log_path.open("wb")
        self.proc = start_in_group(args, self.env, self._log)
        try:
            wait_for(
                "the Dagster UI and its code location",
                self._loaded,
                self.load_timeout,
                interval=1.0,
                error=self.error,
            )
        except BaseException:
            self.close()
            raise
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.proc is None:
            return
        kill_group(self.proc, grace=self.stop_grace)
        if self._log is not None:
            self._log.close()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        return log_tail(self.log_path, chars)

    def _loaded(self) -> bool:
        if not self.alive():
            raise self.error("dagster dev exited:\n" + self.log_tail())
        try:
            data = self.graphql(WORKSPACE_QUERY, timeout=5)
        except (requests.RequestException, self.error):
            return False
        for entry in data["workspaceOrError"].get("locationEntries") or []:
            loaded = entry["locationOrLoadError"]
            if entry["name"] == LOCATION and loaded and loaded["__typename"] == "PythonError":
                raise self.error(f"code location failed to load: {loaded['message']}")
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED":
                return True
        return False

    def graphql(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        resp = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout
        )
        resp.raise_for_status()
        body = resp.json()
        if body.get("errors"):
            raise self.error(f"GraphQL errors: {body['errors']}")
        return body["data"]
