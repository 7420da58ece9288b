"""In-memory state, one `CatalogStore` per catalog (`AWS` and `Sandbox` never see each other's data).

Records are kept in the shape GetOpportunity (or the matching Get/List operation) returns, with
timestamps as aware datetimes at millisecond precision; output views are projections of them.
Keys botocore's shapes do not declare (`Origin` on an opportunity, `_submitted`) stay internal.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass, field
from typing import Any

from . import model

ID_ALPHABET = string.digits + string.ascii_lowercase


@dataclass
class CatalogStore:
    catalog: str
    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (operation, ClientToken) -> (canonical request body, result)
    client_tokens: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)
    solutions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invitations: dict[str, dict[str, Any]] = field(default_factory=dict)
    from_opportunity_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepting_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    engagements: dict[str, dict[str, Any]] = field(default_factory=dict)
    # opportunity id -> engagement id (ListEngagementResourceAssociations)
    engagement_of: dict[str, str] = field(default_factory=dict)
    # AWS's side of an opportunity: what GetAwsOpportunitySummary returns, minus derived fields
    aws_summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: list[dict[str, Any]] = field(default_factory=list)


class Ids:
    """Identifier and ARN minting in the real formats; seeded so runs are reproducible."""

    def __init__(self, account_id: str, region: str, seed: int = 0) -> None:
        self.account_id = account_id
        self.region = region
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self._rng = random.Random(self.seed)
        self._opportunity = 1_000_000_000
        self._solution = 100_000

    def _suffix(self, n: int) -> str:
        return "".join(self._rng.choice(ID_ALPHABET) for _ in range(n))

    def opportunity(self) -> str:
        self._opportunity += 1
        return f"O{self._opportunity}"

    def solution(self) -> str:
        self._solution += 1
        return f"S-{self._solution:07d}"

    def invitation(self) -> str:
        return f"engi-{self._suffix(13)}"

    def engagement(self) -> str:
        return f"eng-{self._suffix(14)}"

    def task(self) -> str:
        return f"task-{self._suffix(13)}"

    def job(self) -> str:
        return f"job-{self._suffix(13)}"

    def arn(self, catalog: str, kind: str, identifier: str) -> str:
        return f"arn:aws:partnercentral:{self.region}:{self.account_id}:catalog/{catalog}/{kind}/{identifier}"


class Clock:
    """Millisecond timestamps that strictly increase, so every write moves LastModifiedDate."""

    def __init__(self) -> None:
        self._last = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    def tick(self) -> dt.datetime:
        t = model.now()
        if t <= self._last:
            t = self._last + dt.timedelta(milliseconds=1)
        self._last = t
        return t
