"""Deal pipelines: HubSpot's default pipeline plus any the seed adds (custom ones have numeric stage ids)."""

from __future__ import annotations

from typing import Any

from .timeutil import iso_ms, now_ms

DEFAULT_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
)


def pipeline_json(
    pipeline_id: str, label: str, stages: list[tuple[str, str, str, bool]], order: int
) -> dict[str, Any]:
    stamp = iso_ms(now_ms())
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": order,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "stages": [
            {
                "id": sid,
                "label": slabel,
                "displayOrder": i,
                "archived": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "metadata": {"isClosed": "true" if closed else "false", "probability": prob},
            }
            for i, (sid, slabel, prob, closed) in enumerate(stages)
        ],
    }


class PipelineStore:
    def __init__(self) -> None:
        self.deals: dict[str, dict[str, Any]] = {
            "default": pipeline_json("default", "Sales Pipeline", list(DEFAULT_STAGES), 0)
        }

    def add(self, pipeline: dict[str, Any]) -> None:
        """A pipeline in HubSpot's JSON shape, or the seed's compact {id, label, stages: [[id, label, prob, closed]]}."""
        stages = pipeline.get("stages") or []
        if stages and not isinstance(stages[0], dict):
            pipeline = pipeline_json(
                str(pipeline["id"]), str(pipeline["label"]), [tuple(s) for s in stages], len(self.deals)
            )
        self.deals[str(pipeline["id"])] = pipeline
