"""Human-readable summaries of plan and apply frames (counts and markdown tables for the UI and CLI)."""

from __future__ import annotations

import json

import pandas as pd

from hspc_pipelines.mapping.vocabulary import Operation

MAX_TABLE_ROWS = 20


def counts(df: pd.DataFrame, column: str) -> dict[str, int]:
    if df.empty:
        return {}
    return {str(k): int(v) for k, v in df[column].value_counts().sort_index().items()}


def _cell(value: object, width: int = 160) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_table(rows: list[dict[str, object]], columns: list[str]) -> str:
    if not rows:
        return "_none_"
    head = "| " + " | ".join(columns) + " |\n| " + " | ".join("---" for _ in columns) + " |\n"
    return head + "\n".join("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows)


def failures_table(df: pd.DataFrame, status_column: str, bad: tuple[str, ...], message_column: str) -> str:
    """The first failing rows with their reasons."""
    if df.empty:
        return "_none_"
    failing = df[df[status_column].isin(bad)].head(MAX_TABLE_ROWS)
    cols = [c for c in ("entity_key", "deal_id", "opportunity_id", status_column, message_column) if c in df]
    rows = [{str(k): v for k, v in r.items()} for r in failing[cols].to_dict("records")]
    return markdown_table(rows, cols)


def changed_fields_table(plan: pd.DataFrame) -> str:
    """Plan rows that change fields, one line per field: old -> new."""
    rows: list[dict[str, object]] = []
    for rec in plan[plan["operation"].isin([Operation.UPDATE.value, Operation.BLOCKED.value])].to_dict(
        "records"
    ):
        for fname, (old, new) in (json.loads(rec["changed_fields_json"] or "{}")).items():
            rows.append(
                {
                    "deal_id": rec["deal_id"],
                    "opportunity_id": rec["opportunity_id"],
                    "field": fname,
                    "old": old,
                    "new": new,
                    "operation": rec["operation"],
                }
            )
            if len(rows) >= MAX_TABLE_ROWS:
                return markdown_table(rows, ["deal_id", "opportunity_id", "operation", "field", "old", "new"])
    return markdown_table(rows, ["deal_id", "opportunity_id", "operation", "field", "old", "new"])
