"""The sync history as text: aligned columns for the terminal, a markdown table for Dagster metadata
(`dg.MetadataValue.md(...)`). Pure: records in, strings out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hspc_pipelines.history.records import FieldChange, HistoryRecord

_MESSAGE_WIDTH = 120  # terminal cells; markdown keeps the whole message
# Outcomes a run's metadata table counts but does not list row by row.
QUIET_STATUSES: tuple[str, ...] = ("unchanged", "skipped")


def _when(record: HistoryRecord) -> str:
    return record.recorded_at.strftime("%Y-%m-%d %H:%M:%SZ")


def _change(change: FieldChange) -> str:
    if change.secret:
        return f"{change.name} (secret, changed)"
    return f"{change.name}: {change.old!r} -> {change.new!r}"


def _changes(record: HistoryRecord) -> str:
    return "; ".join(_change(c) for c in record.changes)


def _reason(record: HistoryRecord) -> str:
    parts = [p for p in (record.reason_code, record.message) if p]
    return ": ".join(parts)


def _run(record: HistoryRecord) -> str:
    where = record.window or ",".join(record.scope)
    return f"{record.job_name} {record.run_id}" + (f" [{where}]" if where else "")


def _asked(record: HistoryRecord) -> str:
    """Who asked for a manual action, and when (`api-token:ci at 2026-12-06 01:02Z`)."""
    if not record.actor:
        return ""
    when = record.requested_at.strftime(" at %Y-%m-%d %H:%M:%SZ") if record.requested_at else ""
    return record.actor + when


Column = tuple[str, Callable[[HistoryRecord], str]]

TIMELINE_COLUMNS: tuple[Column, ...] = (
    ("when (UTC)", _when),
    ("operation", lambda r: r.operation),
    ("status", lambda r: r.status),
    ("opportunity", lambda r: r.opportunity_id or ""),
    ("review", lambda r: r.review_status or ""),
    ("reason", _reason),
    ("changes", _changes),
    ("asked by", _asked),
    ("run", _run),
)

FAILURE_COLUMNS: tuple[Column, ...] = (
    ("when (UTC)", _when),
    ("deal", lambda r: r.deal_id or ""),
    ("opportunity", lambda r: r.opportunity_id or ""),
    ("operation", lambda r: r.operation),
    ("status", lambda r: r.status),
    ("reason", _reason),
    ("asked by", _asked),
    ("run", _run),
)

RUN_COLUMNS: tuple[Column, ...] = (
    ("deal", lambda r: r.deal_id or ""),
    ("opportunity", lambda r: r.opportunity_id or ""),
    ("operation", lambda r: r.operation),
    ("status", lambda r: r.status),
    ("reason", _reason),
    ("changes", _changes),
    ("asked by", _asked),
)


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())  # one line per row, whatever the message holds
    return text if len(text) <= width else text[: width - 1] + "…"


def text_table(records: Sequence[HistoryRecord], columns: Sequence[Column]) -> str:
    """Aligned columns, a header and one line per record; empty columns are left out."""
    cells = [[_cell(get(r), _MESSAGE_WIDTH) for _, get in columns] for r in records]
    keep = [i for i in range(len(columns)) if any(row[i] for row in cells)]
    header = [columns[i][0] for i in keep]
    widths = [max([len(header[n])] + [len(row[i]) for row in cells]) for n, i in enumerate(keep)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(row[i].ljust(w) for i, w in zip(keep, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")


def markdown_table(records: Sequence[HistoryRecord], columns: Sequence[Column]) -> str:
    lines = [
        "| " + " | ".join(name for name, _ in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(_md_cell(get(r)) for _, get in columns) + " |" for r in records]
    return "\n".join(lines)


def timeline_text(deal_id: str, records: Sequence[HistoryRecord]) -> str:
    if not records:
        return f"No sync history for deal {deal_id}."
    return f"Sync history of deal {deal_id}, newest first:\n" + text_table(records, TIMELINE_COLUMNS)


def failures_text(records: Sequence[HistoryRecord]) -> str:
    if not records:
        return "No failed rows."
    return f"{len(records)} failed row(s), newest first:\n" + text_table(records, FAILURE_COLUMNS)


def timeline_markdown(records: Sequence[HistoryRecord]) -> str:
    return markdown_table(records, TIMELINE_COLUMNS)


def failures_markdown(records: Sequence[HistoryRecord]) -> str:
    return markdown_table(records, FAILURE_COLUMNS)


def run_markdown(records: Sequence[HistoryRecord], max_rows: int = 200) -> str:
    """One run's rows for the metadata of the asset or report it materialized: the count per status,
    then the rows that did something (failures first), at most `max_rows` of them, so a 10,000-row
    no-op run stays a short table."""
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    shown = sorted((r for r in records if r.status not in QUIET_STATUSES), key=lambda r: not r.failed)
    lines = [f"**{len(records)} row(s)**: {summary}" if records else "**0 rows**"]
    if shown:
        lines += ["", markdown_table(shown[:max_rows], RUN_COLUMNS)]
    if len(shown) > max_rows:
        run_id = records[0].run_id
        lines += [
            "",
            f"... and {len(shown) - max_rows} more: `SELECT * FROM hspc_sync_history WHERE run_id = '{run_id}'`",
        ]
    return "\n".join(lines)
