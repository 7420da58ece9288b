"""deploy/hubspot-app/: the developer-platform app project a partner uploads with `hs project upload`.

Its files are what HubSpot's reference requires (docs/hubspot-app.md, "What was verified"), its scopes
are exactly those hspc asks for (one list: doctor/scopes.py), and its webhook subscriptions are exactly
the deal events and properties hspc reacts to (hubspot/webhook_events.py), each one the ingress parses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hspc_pipelines.doctor.scopes import APP_ONLY_SCOPES, APP_SCOPES, REQUIRED_SCOPES
from hspc_pipelines.hubspot.webhook_events import (
    KNOWN_SUBSCRIPTION_TYPES,
    PROPERTY_CHANGE,
    SUBSCRIBED_DEAL_EVENTS,
    SUBSCRIBED_DEAL_PROPERTIES,
)
from hspc_pipelines.mapping.properties import DEAL_PROPERTIES
from hspc_pipelines.mapping.vocabulary import DealEvent
from hspc_pipelines_tests.support.paths import DEPLOY, REPO

PROJECT = DEPLOY / "hubspot-app"
DOC = REPO / "docs" / "hubspot-app.md"
# Platform versions HubSpot's project templates (HubSpot/hubspot-project-components) ship as released.
PLATFORM_VERSIONS = {"2025.2", "2026.03"}
# The app's features and the folders HubSpot's reference puts them in (src/app/<folder>/*-hsmeta.json).
FEATURE_FOLDERS = {"app": "", "webhooks": "webhooks"}
UID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _components() -> dict[str, dict[str, Any]]:
    """type -> the component's *-hsmeta.json; each type once."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((PROJECT / "src").rglob("*.json")):
        assert path.name.endswith("-hsmeta.json"), f"{path}: HubSpot reads only *-hsmeta.json files"
        data = _json(path)
        kind = data.get("type")
        assert kind in FEATURE_FOLDERS, f"{path}: type {kind!r}; this project has {sorted(FEATURE_FOLDERS)}"
        folder = PROJECT / "src" / "app" / FEATURE_FOLDERS[kind]
        assert path.parent == folder, f"{path}: a {kind} component lives at the root of {folder}"
        assert kind not in out, f"two {kind} components"
        out[kind] = data
    return out


def test_the_project_file_names_the_source_folder_and_a_released_platform_version():
    project = _json(PROJECT / "hsproject.json")
    assert set(project) == {"name", "srcDir", "platformVersion"}
    assert project["platformVersion"] in PLATFORM_VERSIONS
    assert (PROJECT / project["srcDir"]).is_dir() and project["srcDir"] == "src"
    assert project["name"]


def test_the_app_component_has_what_the_reference_requires():
    app = _components()["app"]
    assert UID.match(app["uid"]) and app["type"] == "app"
    config = app["config"]
    assert config["name"] and config["description"]
    assert config["distribution"] in {"private", "marketplace"}
    auth = config["auth"]
    assert auth["type"] in {"static", "oauth"}
    if auth["type"] == "static":  # "Apps configured with static auth can only define required scopes"
        assert not auth.get("optionalScopes") and not auth.get("conditionallyRequiredScopes")
        assert config["distribution"] == "private"  # marketplace apps must use OAuth
    else:
        assert auth.get("redirectUrls")
    assert set(config["permittedUrls"]) <= {"fetch", "iframe", "img"}


def test_the_manifest_asks_for_exactly_the_scopes_hspc_needs():
    scopes = _components()["app"]["config"]["auth"]["requiredScopes"]
    assert len(scopes) == len(set(scopes)), "a scope listed twice"
    assert set(scopes) == set(APP_SCOPES)
    assert set(REQUIRED_SCOPES) <= set(scopes)  # the CRM scopes a private app token needs too


def test_the_webhook_subscriptions_are_the_deal_events_and_properties_hspc_reacts_to():
    webhooks = _components()["webhooks"]
    assert UID.match(webhooks["uid"]) and webhooks["type"] == "webhooks"
    settings = webhooks["config"]["settings"]
    assert re.fullmatch(r"https://[^/\s]+/webhook/hubspot", settings["targetUrl"]), settings["targetUrl"]
    assert isinstance(settings["maxConcurrentRequests"], int) and settings["maxConcurrentRequests"] >= 1
    subscriptions = webhooks["config"]["subscriptions"]
    # The legacy deal.* types: their payloads are the ones the ingress parses (objectId, propertyName, ...).
    assert not subscriptions.get("crmObjects") and not subscriptions.get("hubEvents")
    entries = subscriptions["legacyCrmObjects"]
    assert all(e["active"] is True for e in entries)
    types = [e["subscriptionType"] for e in entries]
    assert set(types) <= KNOWN_SUBSCRIPTION_TYPES, "a subscription the ingress would drop as unknown"
    events = [t for t in types if t != PROPERTY_CHANGE]
    assert sorted(events) == sorted(SUBSCRIBED_DEAL_EVENTS) == sorted(set(DealEvent) - {PROPERTY_CHANGE})
    changes = [e for e in entries if e["subscriptionType"] == PROPERTY_CHANGE]
    assert all(set(e) == {"subscriptionType", "propertyName", "active"} for e in changes)
    watched = [e["propertyName"] for e in changes]
    assert len(watched) == len(set(watched))
    assert set(watched) == set(SUBSCRIBED_DEAL_PROPERTIES)
    # Every property the plan reads is watched, except the two HubSpot sets on every write or never.
    assert set(DEAL_PROPERTIES) - set(watched) == {"hs_lastmodifieddate", "createdate"}
    assert not [e for e in entries if e["subscriptionType"] != PROPERTY_CHANGE and "propertyName" in e]


@pytest.mark.parametrize("scope", sorted(APP_ONLY_SCOPES))
def test_the_guide_explains_every_scope_only_the_app_has(scope):
    assert f"`{scope}`" in DOC.read_text(encoding="utf-8")


def test_the_guide_names_every_file_of_the_project():
    text = DOC.read_text(encoding="utf-8")
    for path in PROJECT.rglob("*.json"):
        assert str(path.relative_to(REPO)) in text, path
