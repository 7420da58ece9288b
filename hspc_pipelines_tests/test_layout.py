"""docs/architecture.md's layout table against the tree: every package and top-level module of
hspc_pipelines has a row, and every row names something that exists (a newcomer trusts that table)."""

from __future__ import annotations

import re
from pathlib import Path

from hspc_pipelines_tests.support.paths import REPO

PACKAGE = REPO / "hspc_pipelines"
ROW = re.compile(r"^\| `(hspc_pipelines/[\w/.]+)` \|", re.M)


def documented() -> set[str]:
    return set(ROW.findall((REPO / "docs" / "architecture.md").read_text()))


def in_the_tree(package: Path = PACKAGE) -> set[str]:
    found = {f"hspc_pipelines/{p.name}" for p in package.glob("*.py") if p.name != "__init__.py"}
    for folder in package.rglob("*"):
        relative = folder.relative_to(package)
        if not folder.is_dir() or "__pycache__" in relative.parts or folder.name == "data":
            continue
        if relative.parts[0] == "emulators" and len(relative.parts) > 1:
            continue  # the emulators are one row: their inside is theirs
        if any(folder.glob("*.py")):
            found.add(f"hspc_pipelines/{relative.as_posix()}/")
    return found


def test_every_package_and_module_has_a_row() -> None:
    missing = sorted(in_the_tree() - documented())
    assert not missing, f"docs/architecture.md's layout table lacks: {missing}"


def test_every_row_names_something_that_exists() -> None:
    stale = sorted(p for p in documented() if not (REPO / p).exists())
    assert not stale, f"docs/architecture.md's layout table names what is not in the tree: {stale}"


def test_the_check_sees_a_new_folder_and_module(tmp_path: Path) -> None:
    """A feature folder or a top-level module added without a row is caught; data and caches are not rows."""
    (tmp_path / "newfeature").mkdir()
    (tmp_path / "newfeature" / "rules.py").write_text("")
    (tmp_path / "newfeature" / "__pycache__").mkdir()
    (tmp_path / "mapping" / "data").mkdir(parents=True)
    (tmp_path / "mapping" / "model.py").write_text("")
    (tmp_path / "tool.py").write_text("")
    assert in_the_tree(tmp_path) == {
        "hspc_pipelines/newfeature/",
        "hspc_pipelines/mapping/",
        "hspc_pipelines/tool.py",
    }
