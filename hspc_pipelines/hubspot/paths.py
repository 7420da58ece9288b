"""HubSpot API paths, built in one place: date-based versions and the numbered paths they replace.

Since March 2026 HubSpot versions its REST APIs by date in the path (`/crm/objects/2026-09/deals`);
the numbered paths (`/crm/v3/...`, `/crm/v4/associations/...`) stop being supported in September 2027
(v4: March 30, 2027). The client asks this module for every path template it calls, so moving to the
next version is one setting (HSPC_HUBSPOT_API_VERSION) and `legacy` goes back to the numbered paths.
What was verified in HubSpot's reference, per path: docs/hubspot-api-versions.md. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

DEFAULT_VERSION: Final = "2026-09"
LEGACY: Final = "legacy"
FIRST_DATED: Final = "2026-03"  # HubSpot's first date-based version
# From this version on, HubSpot applies a portal's required-property rules to every CRM create/update.
WRITE_VALIDATION_FROM: Final = "2026-09"
VERSION_ALLOWED: Final = (
    "a HubSpot API version YYYY-MM (a March or September release, 2026-03 or later, "
    "optionally with -beta), or 'legacy' for the numbered v3/v4 paths"
)
# HubSpot ships a version each March and September; any other month is a typo that would 404 everywhere.
_VERSION = re.compile(r"(?P<month>\d{4}-(?:03|09))(?P<beta>-beta)?")
_DATED_SEGMENT = re.compile(r"/\d{4}-\d{2}(?:-beta)?(?:/|$)")
_NUMBERED_SEGMENT = re.compile(r"/v\d+(?:/|$)")

DATED, NUMBERED, UNVERSIONED = "date-based", "numbered", "unversioned"

# Token introspection has no date-based equivalent in the reference (checked 2026-12-06): the one
# numbered path the client keeps, until HubSpot's end of support for numbered APIs.
TOKEN_INFO: Final = "/oauth/v2/private-apps/get/access-token-info"
# End of support of the numbered paths, by prefix (HubSpot's migration guide and changelog).
END_OF_SUPPORT: Final[dict[str, str]] = {
    "/crm/v4/": "2027-03-30",
    "/crm/v3/": "2027-09",
    "/oauth/v2/": "2027-09",
}


@dataclass(frozen=True)
class ApiVersion:
    """A validated version: `2026-09`, `2027-03-beta`, or `legacy` (the numbered paths)."""

    name: str

    @property
    def dated(self) -> bool:
        return self.name != LEGACY

    @property
    def enforces_write_validation(self) -> bool:
        """Whether HubSpot checks the portal's required-property rules on writes at this version."""
        return self.dated and self.name[:7] >= WRITE_VALIDATION_FROM


def parse_version(text: str) -> ApiVersion:
    """`2026-09` -> ApiVersion; anything else raises ValueError naming the value and what is allowed."""
    value = str(text).strip()
    if value.lower() == LEGACY:
        return ApiVersion(LEGACY)
    match = _VERSION.fullmatch(value)
    if match is None or match["month"] < FIRST_DATED:
        raise ValueError(f"HubSpot API version {value!r} cannot be used; allowed: {VERSION_ALLOWED}")
    return ApiVersion(value)


def family(path: str) -> str:
    """`date-based` (`/crm/objects/2026-09/...`), `numbered` (`/crm/v3/...`) or `unversioned`."""
    if _DATED_SEGMENT.search(path):
        return DATED
    if _NUMBERED_SEGMENT.search(path):
        return NUMBERED
    return UNVERSIONED


def end_of_support(path: str) -> str | None:
    """When HubSpot stops supporting a numbered path (None for date-based and unknown paths)."""
    return next((when for prefix, when in END_OF_SUPPORT.items() if path.startswith(prefix)), None)


class HubSpotPaths:
    """Path templates for one version; placeholders (`{object_type}`, …) are filled and quoted by the
    client. Date-based: `/crm/<api>/<version>/...`; legacy: the numbered v3/v4 paths."""

    def __init__(self, version: ApiVersion | str = DEFAULT_VERSION) -> None:
        self.version = version if isinstance(version, ApiVersion) else parse_version(version)

    def _crm(self, api: str, numbered: str) -> str:
        return f"/crm/{api}/{self.version.name}" if self.version.dated else f"/crm/{numbered}"

    def objects(self, suffix: str = "") -> str:
        """`/crm/objects/2026-09/{object_type}` + suffix (`/batch/read`, `/search`, `/{object_id}`)."""
        return self._crm("objects", "v3/objects") + "/{object_type}" + suffix

    def properties(self, suffix: str = "") -> str:
        return self._crm("properties", "v3/properties") + "/{object_type}" + suffix

    def pipelines(self, suffix: str = "") -> str:
        return self._crm("pipelines", "v3/pipelines") + "/{object_type}" + suffix

    def associations(self, suffix: str) -> str:
        """`/crm/associations/2026-09/{from_type}/{to_type}` + suffix (`/batch/read`, `/batch/create`)."""
        return self._crm("associations", "v4/associations") + "/{from_type}/{to_type}" + suffix

    def token_info(self) -> str:
        return TOKEN_INFO
