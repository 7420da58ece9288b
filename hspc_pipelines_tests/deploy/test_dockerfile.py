"""deploy/Dockerfile, checked without Docker: instructions, sources, user, and the commands it runs.

The entrypoint's commands are taken from the script itself (HSPC_ENTRYPOINT_DRY_RUN=1) and parsed by
the real CLIs installed from pyproject: dagster's click commands with --help appended (unknown
options fail), `hspc` through its own argparse parser.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hspc_pipelines_tests.support.paths import DEPLOY, REPO

DOCKERFILE = DEPLOY / "Dockerfile"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
VENV_BIN = Path(sys.executable).parent
KNOWN = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
}  # fmt: skip
ROLES = ("code-location", "webserver", "daemon", "ingress")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continuation"
    return out


def of(kind: str) -> list[str]:
    return [args for word, args in instructions() if word == kind]


def test_every_instruction_is_known() -> None:
    words = [word for word, _ in instructions()]
    assert set(words) <= KNOWN, set(words) - KNOWN
    assert words[0] == "FROM"


def test_base_user_and_home() -> None:
    assert of("FROM") == ["python:3.11-slim"]
    (user,) = of("USER")
    assert user.split(":")[0] not in {"root", "0"}
    env = " ".join(of("ENV"))
    assert "DAGSTER_HOME=/opt/dagster/home" in env
    assert of("HEALTHCHECK"), "no HEALTHCHECK"
    # The instance config lands in DAGSTER_HOME.
    assert any(c.endswith("/opt/dagster/home/dagster.yaml") for c in of("COPY"))


def test_pip_installs_the_project_without_dev_extras() -> None:
    runs = " ".join(of("RUN"))
    assert "pip install ." in runs
    assert "[dev]" not in runs and ".[" not in runs
    assert "[emulators]" not in runs and "moto" not in runs


def test_the_emulators_are_not_in_the_image() -> None:
    """The build context leaves out hspc_pipelines/emulators, the rest of the package goes in, and a
    context that has the emulators fails the build before pip runs."""
    assert ignored("hspc_pipelines/emulators")
    assert ignored("hspc_pipelines/emulators/stack.py")
    assert not ignored("hspc_pipelines")
    for kept in ("hspc_pipelines/cli.py", "hspc_pipelines/extras.py", "hspc_pipelines/definitions.py"):
        assert (REPO / kept).exists() and not ignored(kept), kept
    (install,) = [args for args in of("RUN") if "pip install ." in args]
    guard = "if [ -e hspc_pipelines/emulators ]; then"
    assert guard in install and install.index(guard) < install.index("pip install .")
    assert "exit 1" in install.split("pip install .")[0]


def _copy_sources() -> list[str]:
    sources = []
    for args in of("COPY") + of("ADD"):
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        sources += parts[:-1]
    return sources


def ignored(path: str) -> bool:
    """Whether Dockerfile.dockerignore leaves `path` out of the build context (Docker's rule: the
    last matching pattern wins; a pattern matches a path and everything under it)."""
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    verdict = False
    for pattern in (p for p in patterns if p and not p.startswith("#")):
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat + "/*"):
            verdict = not negate
    return verdict


def test_copy_sources_exist_and_are_not_ignored() -> None:
    sources = _copy_sources()
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY source missing in the repository: {source}"
        assert not ignored(source.rstrip("/")), f"COPY source excluded by {DOCKERIGNORE.name}: {source}"


def test_entrypoint_and_cmd() -> None:
    (entrypoint,) = of("ENTRYPOINT")
    (cmd,) = of("CMD")
    assert json.loads(entrypoint) == ["hspc-entrypoint"]
    assert json.loads(cmd)[0] in ROLES
    assert any(
        "deploy/entrypoint.sh" in c and c.split()[-1] == "/usr/local/bin/hspc-entrypoint" for c in of("COPY")
    )
    (healthcheck,) = of("HEALTHCHECK")
    assert healthcheck.split("CMD", 1)[1].strip() == '["hspc-entrypoint", "healthcheck"]'


def test_entrypoint_is_valid_posix_sh() -> None:
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)
    assert os.access(ENTRYPOINT, os.X_OK)


def dry_run(*args: str) -> list[str]:
    env = {**os.environ, "HSPC_ENTRYPOINT_DRY_RUN": "1"}
    out = subprocess.run(["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, check=True)
    return shlex.split(out.stdout)


@pytest.mark.parametrize("role", ["code-location", "webserver", "daemon"])
def test_dagster_roles_parse_with_the_installed_clis(role: str) -> None:
    argv = dry_run(role)
    exe = VENV_BIN / argv[0]
    assert exe.exists(), f"{argv[0]} is not installed by the project's dependencies"
    result = subprocess.run([str(exe), *argv[1:], "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_location_serves_the_definitions_module() -> None:
    argv = dry_run("code-location")
    assert argv[argv.index("--module-name") + 1] == "hspc_pipelines.definitions"


def test_hspc_console_script_and_ingress_command() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["hspc"] == "hspc_pipelines.cli:main"
    from hspc_pipelines import cli

    assert "hspc_pipelines.ingress.cli" in cli.COMMAND_MODULES
    argv = dry_run("ingress")
    assert argv[:2] == ["hspc", "ingress"]
    __import__("hspc_pipelines.ingress.cli")
    args = cli.build_parser().parse_args(argv[1:])  # exits (SystemExit) on an unknown option
    assert args.command == "ingress"


def test_other_commands_pass_through_for_run_workers() -> None:
    assert dry_run("dagster", "api", "execute_run", "{}") == ["dagster", "api", "execute_run", "{}"]


@pytest.mark.parametrize(
    ("pid1", "probe"),
    [
        ("code-server start", "dagster api grpc-health-check --port 4000"),
        ("dagster-webserver", "http_ok http://127.0.0.1:3000/server_info"),
        ("dagster-daemon run", "dagster-daemon liveness-check"),
        ("hspc ingress", "http_ok http://127.0.0.1:8080/healthz"),
    ],
)
def test_healthcheck_probe_per_role(pid1: str, probe: str) -> None:
    """The probe is chosen from PID 1's command line; here a stand-in function replaces /proc/1."""
    script = ENTRYPOINT.read_text().replace("tr '\\0' ' ' </proc/1/cmdline", f"echo '{pid1}'")
    assert script != ENTRYPOINT.read_text()
    env = {**os.environ, "HSPC_ENTRYPOINT_DRY_RUN": "1"}
    out = subprocess.run(
        ["sh", "-c", script, "entrypoint", "healthcheck"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == probe
    if probe.startswith("dagster"):
        argv = probe.split()
        help_run = subprocess.run([str(VENV_BIN / argv[0]), *argv[1:], "--help"], capture_output=True)
        assert help_run.returncode == 0
