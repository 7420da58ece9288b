"""docs/security.md traces each threat to the tests that show its mitigation: every test it names
must exist (a renamed or deleted test fails here, not in a security review)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "hspc_pipelines_tests"
# `ingress/test_auth.py::test_x`, or `::test_y` for another test of the file named just before.
REFERENCE = re.compile(r"`(?:([\w/]+\.py))?::(test_\w+)`")


def references(text: str) -> list[tuple[str, str]]:
    out, current = [], None
    for match in REFERENCE.finditer(text):
        current = match.group(1) or current
        assert current is not None, f"{match.group(0)} names no file before it"
        out.append((current, match.group(2)))
    return out


def test_every_test_docs_security_names_exists() -> None:
    found = references((REPO / "docs" / "security.md").read_text(encoding="utf-8"))
    assert len(found) >= 30, "the threat table lost its test references"
    missing = [
        f"{path}::{name}"
        for path, name in found
        if not (TESTS / path).is_file()
        or not re.search(rf"^def {name}\(", (TESTS / path).read_text(encoding="utf-8"), re.M)
    ]
    assert not missing, f"docs/security.md names tests that do not exist: {missing}"


def test_the_reference_reader_follows_the_previous_file() -> None:
    text = "`a/test_x.py::test_one`, `::test_two` and `b/test_y.py::test_three`"
    assert references(text) == [
        ("a/test_x.py", "test_one"),
        ("a/test_x.py", "test_two"),
        ("b/test_y.py", "test_three"),
    ]
