"""Fingerprints of settled pairs: a deal/opportunity pair that planned `none` is not planned again
while nothing that decided that plan has changed.

The plan of a linked pair is a pure function of the deal's properties, its company and contacts, the
opportunity record, the mapping configuration, the catalog and this code. A fingerprint hashes
exactly those inputs, as the frames store them (JSON text, so nothing is decoded to compare), plus
a digest of the planning code's own source and botocore's version (whose service model validates
requests). When a pair planned `none`, its fingerprint is kept in the state store; the next plan
finds the same fingerprint and gives the same `none` row without mapping the deal. Any edit on
either side (HubSpot and Partner Central both bump a modification stamp that is part of the text), a
new mapping file or a new release of the code gives another fingerprint, and the pair is planned in
full.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

import botocore

from hspc_pipelines.mapping import MappingConfig

_PACKAGE = Path(__file__).resolve().parent.parent
# The source that decides a plan row: the mapping package (code and data) and the planning modules.
_PLANNING_SOURCES = (
    "mapping",
    "reconcile/plan.py",
    "reconcile/merge.py",
    "hubspot/notes.py",
    "partner_central/records.py",
    "reconcile/settled.py",
    "solutions/sync.py",
)


@functools.cache
def code_digest() -> str:
    """A digest of the planning code, this package's and botocore's versions: a new release re-plans
    every pair (the version also covers an install that ships no source files)."""
    try:
        release = importlib.metadata.version("hspc-pipelines")
    except importlib.metadata.PackageNotFoundError:
        release = "unknown"
    h = hashlib.sha256(f"hspc-pipelines {release}\nbotocore {botocore.__version__}\n".encode())
    for name in _PLANNING_SOURCES:
        root = _PACKAGE / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.suffix in (".py", ".tsv", ".json", ".yaml"):
                h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
                h.update(path.read_bytes())
    return h.hexdigest()


def context_digest(config: MappingConfig, catalog: str) -> str:
    """What every fingerprint of one plan shares: the code, the mapping configuration, the catalog."""
    settings = json.dumps(dataclasses.asdict(config), sort_keys=True, default=repr)
    return hashlib.sha256(f"{code_digest()}\n{catalog}\n{settings}".encode()).hexdigest()


def pair_fingerprint(
    context: str,
    deal_id: str,
    linked_id: str | None,
    deal_text: str | None,
    company_text: str | None,
    contacts_text: str | None,
    opportunity_id: str,
    partner_identifier: str | None,
    record_text: str,
) -> str:
    """The fingerprint of one pair's plan inputs, each part length-prefixed so that no two different
    inputs run together into the same bytes."""
    h = hashlib.blake2b(context.encode(), digest_size=20)
    for part in (
        deal_id,
        linked_id,
        deal_text,
        company_text,
        contacts_text,
        opportunity_id,
        partner_identifier,
        record_text,
    ):
        if part is None:
            h.update(b"-")
        else:
            data = part.encode()
            h.update(b"%d:" % len(data))
            h.update(data)
    return h.hexdigest()


@dataclass(frozen=True)
class Settled:
    """What the state store keeps for a pair that planned `none`: the fingerprint of its inputs, and
    the warnings of that plan (a skipped pair's row carries them again)."""

    fingerprint: str
    warnings: tuple[str, ...] = ()
