"""The emulators and moto are the `emulators` extra, not runtime dependencies: without them the product
loads and runs with a token, and the commands that need them end in one message naming the extra."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hspc_pipelines import cli
from hspc_pipelines.dev import product_environment
from hspc_pipelines.extras import MissingExtraError, emulator_stack
from hspc_pipelines_tests.support.paths import REPO

INSTALL_HINT = "pip install 'hspc-pipelines[emulators]'"
# What `import` finds in the production image: no emulators package (Dockerfile.dockerignore), no moto.
ABSENT_IN_THE_IMAGE = ("hspc_pipelines.emulators", "moto")


def _hide(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    """Make `packages` (and their submodules) unimportable, as if not installed: a None entry in
    sys.modules makes `import` raise ModuleNotFoundError for that name."""
    for name in [m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in packages)]:
        monkeypatch.setitem(sys.modules, name, None)
    for package in packages:
        monkeypatch.setitem(sys.modules, package, None)


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[None]:
    for name in ("HUBSPOT_ACCESS_TOKEN", "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # `hspc run` sets it; monkeypatch restores it
    yield


def test_moto_is_in_the_emulators_extra_and_not_a_runtime_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = [d.lower() for d in project["dependencies"]]
    assert not [d for d in runtime if d.startswith(("moto", "flask", "werkzeug"))], runtime
    assert "moto[server]==5.2.5" in project["optional-dependencies"]["emulators"]


@pytest.mark.parametrize("missing", ABSENT_IN_THE_IMAGE)
def test_emulate_without_the_extra_names_it(
    missing: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _hide(monkeypatch, missing)
    assert "emulate" in cli.build_parser().format_help()  # still listed, and says what it needs
    assert cli.main(["emulate", "--deals", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hspc emulate: hspc emulate needs the local emulators")
    assert INSTALL_HINT in err and f"(no module '{missing}" in err
    assert "Traceback" not in err


def test_run_without_a_token_and_without_the_extra_names_it(
    no_token: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _hide(monkeypatch, "moto")
    assert cli.main(["run", "--deals", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hspc run: Running without HUBSPOT_ACCESS_TOKEN")
    assert INSTALL_HINT in err and "(no module 'moto" in err
    assert "Traceback" not in err


def test_dev_and_run_without_a_token_need_the_emulators(
    no_token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hide(monkeypatch, *ABSENT_IN_THE_IMAGE)
    with pytest.raises(MissingExtraError, match=r"\[emulators\]"), product_environment(3):
        pytest.fail("the demo environment started without the emulators")


def test_with_a_token_nothing_imports_the_emulators(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, *ABSENT_IN_THE_IMAGE)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-test-token")
    with product_environment(3) as emulated:
        assert emulated is False


def test_another_missing_module_is_not_blamed_on_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the extra's own modules give the install message; anything else keeps its real error."""
    import hspc_pipelines.emulators.stack  # noqa: F401  (loaded, with moto, before boto3 goes)

    monkeypatch.delitem(sys.modules, "hspc_pipelines.emulators.stack")  # imported again, and fails
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ModuleNotFoundError) as caught:
        emulator_stack("test")
    assert caught.value.name == "boto3"


def test_the_product_loads_without_the_emulators(tmp_path: Path) -> None:
    """What the image runs: the definitions, the ingress app and the CLI parser, with the emulators
    package and moto unimportable (a fresh interpreter, so nothing is cached)."""
    code = f"""
import sys
for name in {ABSENT_IN_THE_IMAGE!r}:
    sys.modules[name] = None
import hspc_pipelines.definitions as d
import hspc_pipelines.ingress.app
from hspc_pipelines import cli
assert "emulate" in cli.build_parser().format_help()
# `defs` is lazy (@dg.definitions): build what the code server would
print("loaded", type(d.build_defs()).__name__, len(d.build_defs().resolve_all_job_defs()) > 0)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HSPC_", "HUBSPOT_"))}
    env["DAGSTER_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "loaded Definitions True"
