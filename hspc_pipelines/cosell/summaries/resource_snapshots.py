"""Resource snapshots AWS shares in an opportunity's engagements, as one deal note per new revision.

The engagements come from ListEngagementResourceAssociations (resource type Opportunity); each
engagement's snapshots from ListResourceSnapshots. A revision whose note key the deal already has is
not read again, so a converged run costs two list calls per opportunity and no GetResourceSnapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.cosell.summaries.rules import describe_snapshot
from hspc_pipelines.hubspot.notes import NoteSpec, resource_snapshot_note
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import AccessDeniedError, PartnerCentralError
from hspc_pipelines.partner_central.records import to_jsonable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotRef:
    engagement_id: str
    resource_type: str
    resource_id: str
    template: str
    revision: int

    @property
    def snapshot_id(self) -> str:
        return f"{self.resource_id}:{self.template}"

    def note_key(self) -> str:
        return resource_snapshot_note(self.engagement_id, self.snapshot_id, self.revision, "").key


def engagement_ids(pc: PartnerCentralClient, opportunity_id: str) -> list[str]:
    ids = [
        str(a["EngagementId"])
        for a in pc.list_engagement_resource_associations(
            ResourceType="Opportunity", ResourceIdentifier=opportunity_id
        )
        if a.get("EngagementId")
    ]
    return list(dict.fromkeys(ids))


def list_snapshots(pc: PartnerCentralClient, opportunity_id: str) -> list[SnapshotRef]:
    refs = []
    for engagement_id in engagement_ids(pc, opportunity_id):
        for s in pc.list_resource_snapshots(engagement_id):
            if s.get("Revision") is None or not s.get("ResourceSnapshotTemplateName"):
                continue
            refs.append(
                SnapshotRef(
                    engagement_id,
                    str(s.get("ResourceType") or "Opportunity"),
                    str(s.get("ResourceId") or opportunity_id),
                    str(s["ResourceSnapshotTemplateName"]),
                    int(s["Revision"]),
                )
            )
    return refs


def new_snapshot_notes(
    pc: PartnerCentralClient, opportunity_id: str, have_keys: Collection[str]
) -> tuple[list[NoteSpec], list[str]]:
    """(notes for snapshot revisions the deal has no note for, errors)."""
    notes: list[NoteSpec] = []
    errors: list[str] = []
    try:
        refs = list_snapshots(pc, opportunity_id)
    except AccessDeniedError:
        raise
    except PartnerCentralError as exc:
        return [], [f"resource snapshots of {opportunity_id}: {exc}"]
    for ref in refs:
        if ref.note_key() in have_keys:
            continue
        try:
            snapshot: Mapping[str, Any] = to_jsonable(
                pc.get_resource_snapshot(
                    ref.engagement_id, ref.resource_id, ref.template, ref.revision, ref.resource_type
                )
            )
        except AccessDeniedError:
            raise
        except PartnerCentralError as exc:
            errors.append(f"resource snapshot {ref.snapshot_id} rev {ref.revision}: {exc}")
            continue
        notes.append(
            resource_snapshot_note(
                ref.engagement_id, ref.snapshot_id, ref.revision, describe_snapshot(snapshot)
            )
        )
    return notes, errors
