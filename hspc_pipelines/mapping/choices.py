"""Multi-select and single-choice deal properties validated against the model's values."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from typing import Final

from botocore.model import StructureShape

from . import model
from .errors import FieldError
from .values import split_multi


def _documented_use_cases() -> tuple[str, ...]:
    """CustomerUseCase is a plain string in the model; its documentation lists the valid values."""
    project = model.input_shape("CreateOpportunity").members["Project"]
    member = project.members["CustomerUseCase"] if isinstance(project, StructureShape) else None
    doc = html.unescape(re.sub(r"<[^>]+>", "", (member.documentation if member else "") or ""))
    listed = doc.split("Valid values:", 1)[1] if "Valid values:" in doc else ""
    return tuple(v.strip() for v in listed.split(" | ") if v.strip())


USE_CASES: Final = _documented_use_cases()


def _lookup(allowed: Sequence[str]) -> dict[str, str]:
    """Case-folded value -> value; built once per tuple of allowed values."""
    if isinstance(allowed, tuple):
        return _tuple_lookup(allowed)
    return {a.casefold(): a for a in allowed}


@functools.lru_cache(maxsize=64)
def _tuple_lookup(allowed: tuple[str, ...]) -> dict[str, str]:
    return {a.casefold(): a for a in allowed}


def pick_many(value: str | None, field: str, allowed: Sequence[str], errors: list[FieldError]) -> list[str]:
    """Values separated by `;` or `,`, matched case-insensitively, deduplicated, in given order."""
    if not value:
        return []
    lookup = _lookup(allowed)
    out: list[str] = []
    for part in split_multi(value):
        found = lookup.get(" ".join(part.split()).casefold())
        if found is None:
            errors.append(FieldError(field, part, "not an allowed value", list(allowed)))
        elif found not in out:
            out.append(found)
    return out


def pick_one(value: str | None, field: str, allowed: Sequence[str], errors: list[FieldError]) -> str | None:
    if not value:
        return None
    found = _lookup(allowed).get(" ".join(value.split()).casefold())
    if found is None:
        errors.append(FieldError(field, value, "not an allowed value", list(allowed)))
    return found
