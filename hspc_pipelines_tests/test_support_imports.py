"""Shared test helpers live in `hspc_pipelines_tests/support/` only: no test module, conftest, benchmark
or script imports from another test module (a conftest's fixtures reach its folder through pytest, not
through an import)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "hspc_pipelines_tests"
SUPPORT = f"{PACKAGE}.support"
SCANNED = ("hspc_pipelines_tests", "benchmarks", "scripts")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = REPO.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, module) for every import in `source`, relative ones resolved against `package`."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            for alias in node.names:  # `from pkg import module` imports the module
                full = f"{module}.{alias.name}"
                out.append((node.lineno, full if _is_module(full) else module))
    return out


def imports_of_test_modules(path: Path, source: str | None = None) -> list[str]:
    """Imports of test modules other than support/ (and other than `path` itself), as 'file:line module'."""
    own = _module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    bad: list[str] = []
    for line, module in imported_modules(path.read_text() if source is None else source, package):
        inside = module == PACKAGE or module.startswith(PACKAGE + ".")
        in_support = module == SUPPORT or module.startswith(SUPPORT + ".")
        if (
            inside
            and not in_support
            and module != own
            and f"{path.relative_to(REPO)}:{line} {module}" not in bad
        ):
            bad.append(f"{path.relative_to(REPO)}:{line} {module}")
    return bad


def python_files() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (REPO / folder).rglob("*.py"))


def test_only_support_modules_are_imported_across_test_modules() -> None:
    found = [hit for path in python_files() for hit in imports_of_test_modules(path)]
    assert found == [], "move shared helpers to hspc_pipelines_tests/support/:\n" + "\n".join(found)


def test_the_check_sees_relative_absolute_and_from_package_imports() -> None:
    source = (
        "from .conftest import bundle\n"
        "from . import conftest\n"
        "from hspc_pipelines_tests.reconcile.test_fast_plan import CONFIGS\n"
        "import hspc_pipelines_tests.e2e.conftest\n"
        "from hspc_pipelines_tests import support\n"
        "from hspc_pipelines_tests.support.deals import good_deal\n"
        "from ..support.strategies import junk\n"
        "from .test_probe import helper\n"  # itself
    )
    probe = REPO / PACKAGE / "mapping" / "test_probe.py"  # never written: only its name is used
    hits = [hit.split(" ", 1)[1] for hit in imports_of_test_modules(probe, source)]
    assert hits == [
        "hspc_pipelines_tests.mapping.conftest",
        "hspc_pipelines_tests.mapping.conftest",
        "hspc_pipelines_tests.reconcile.test_fast_plan",
        "hspc_pipelines_tests.e2e.conftest",
    ]
