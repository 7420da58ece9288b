"""Where the invitation rules come from: a YAML/JSON file named by `HSPC_INVITATION_RULES`, else an
`invitation_rules` section of the mapping configuration, else accept every invitation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pycountry
import yaml

from hspc_pipelines.cosell.invitations.rules import ACCEPT_ALL, InvitationRules, RulesConfigError, parse_rules
from hspc_pipelines.settings import load_settings

RULES_ENV = "HSPC_INVITATION_RULES"


def _countries() -> frozenset[str]:
    return frozenset(str(c.alpha_2) for c in pycountry.countries)


def read_rules_file(path: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise RulesConfigError(RULES_ENV, path, "the path of a readable YAML or JSON file")
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise RulesConfigError(RULES_ENV, path, f"valid YAML or JSON ({exc})") from None
    # A file may hold the rules at the top level or under `invitation_rules:`.
    if isinstance(data, Mapping) and "invitation_rules" in data:
        data = data["invitation_rules"]
    return data


def load_invitation_rules(path: str | None = None, mapping_config: object | None = None) -> InvitationRules:
    """The rule set in force (validated; a bad file fails the run with field, value and what is allowed)."""
    path = path if path is not None else load_settings().invitation_rules
    if path:
        return parse_rules(read_rules_file(path), _countries())
    section = getattr(mapping_config, "invitation_rules", None) if mapping_config is not None else None
    if section:
        return parse_rules(section if isinstance(section, Mapping) else dict(section), _countries())
    return ACCEPT_ALL
