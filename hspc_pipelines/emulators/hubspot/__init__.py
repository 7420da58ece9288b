"""Local HubSpot CRM stand-in: `HubSpotEmulator` (ASGI) and `start_hubspot_emulator` (loopback server)."""

from .app import HubSpotEmulator, start_hubspot_emulator

__all__ = ["HubSpotEmulator", "start_hubspot_emulator"]
