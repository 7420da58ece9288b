"""Create the custom HubSpot properties the product reads and writes (idempotent)."""

from __future__ import annotations

from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping.properties import CUSTOM_DEAL_PROPERTIES, CUSTOM_NOTE_PROPERTIES


def bootstrap_properties(client: HubSpotClient) -> list[str]:
    """Custom deal and note properties; returns `object_type.name` of those created now."""
    created = [f"deals.{n}" for n in client.ensure_properties("deals", CUSTOM_DEAL_PROPERTIES)]
    created += [f"notes.{n}" for n in client.ensure_properties("notes", CUSTOM_NOTE_PROPERTIES)]
    return created
