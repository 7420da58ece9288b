"""Local AWS Partner Central Selling API stand-in: `PartnerCentralEmulator` (ASGI) and
`start_partner_central_emulator` (loopback server). A plain boto3 `partnercentral-selling` client
pointed at it (`endpoint_url=`) works unchanged."""

from .app import PartnerCentralEmulator, start_partner_central_emulator
from .events import EventBridgeSink, SqsSink

__all__ = ["EventBridgeSink", "PartnerCentralEmulator", "SqsSink", "start_partner_central_emulator"]
