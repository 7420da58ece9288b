"""The history's terminal text and markdown tables."""

from __future__ import annotations

import datetime as dt

from hspc_pipelines.history.format import (
    failures_markdown,
    failures_text,
    run_markdown,
    timeline_markdown,
    timeline_text,
)
from hspc_pipelines.history.records import FieldChange, HistoryRecord

AT = dt.datetime(2026, 12, 5, 9, 30, 15, tzinfo=dt.UTC)


def record(**values: object) -> HistoryRecord:
    fields: dict[str, object] = {
        "id": 1,
        "recorded_at": AT,
        "run_id": "run-1",
        "job_name": "reconcile",
        "operation": "update",
        "status": "updated",
        "deal_id": "1001",
        "opportunity_id": None,
        "window": "2026-12-05",
        "scope": (),
        "review_status": None,
        "reason_code": None,
        "message": None,
        "changes": (),
        "actor": None,
    }
    fields.update(values)
    return HistoryRecord(**fields)  # type: ignore[arg-type]


def test_timeline_text_aligns_columns_and_drops_empty_ones() -> None:
    text = timeline_text(
        "1001",
        [
            record(status="failed", reason_code="ValidationException", message="bad\ncountry"),
            record(
                id=2,
                job_name="sync_deals",
                window=None,
                scope=("1001",),
                changes=(FieldChange("amount", 1, 2),),
            ),
        ],
    )
    assert text.splitlines() == [
        "Sync history of deal 1001, newest first:",
        "when (UTC)            operation  status   reason                            changes         run",
        "2026-12-05 09:30:15Z  update     failed   ValidationException: bad country                  reconcile run-1 [2026-12-05]",
        "2026-12-05 09:30:15Z  update     updated                                    amount: 1 -> 2  sync_deals run-1 [1001]",
    ]


def test_long_messages_are_cut_in_the_terminal_only() -> None:
    long = "x" * 500
    text = failures_text([record(status="failed", message=long)])
    assert long not in text and "x" * 119 + "…" in text
    assert long in failures_markdown([record(status="failed", message=long)])


def test_secret_changes_show_the_name_only() -> None:
    text = timeline_markdown([record(changes=(FieldChange("api_token", secret=True),))])
    assert "api_token (secret, changed)" in text


def test_markdown_escapes_pipes_and_keeps_one_line_per_row() -> None:
    md = run_markdown(
        [record(message="a | b\nc", reason_code="E1"), record(deal_id=None, opportunity_id="O1")]
    )
    assert md.splitlines() == [
        "**2 row(s)**: updated 2",
        "",
        "| deal | opportunity | operation | status | reason | changes | asked by |",
        "|---|---|---|---|---|---|---|",
        "| 1001 |  | update | updated | E1: a \\| b c |  |  |",
        "|  | O1 | update | updated |  |  |  |",
    ]


def test_who_asked_and_when_is_shown_for_manual_actions_only() -> None:
    asked = record(
        operation="submit",
        status="submitted",
        actor="hubspot-user:4242",
        requested_at=dt.datetime(2026, 12, 6, 1, 2, 3, tzinfo=dt.UTC),
    )
    text = timeline_text("1001", [asked, record()])
    header, first, second = text.splitlines()[1:]
    assert "asked by" in header and "hubspot-user:4242 at 2026-12-06 01:02:03Z" in first
    assert "hubspot-user" not in second
    # Rows nobody asked for (scheduled, event runs) leave the column out of the terminal table.
    assert "asked by" not in timeline_text("1001", [record()])
    assert "| api-token:ci |" in run_markdown([record(actor="api-token:ci", status="failed")])


def test_empty_lists() -> None:
    assert timeline_text("5", []) == "No sync history for deal 5."
    assert failures_text([]) == "No failed rows."
    assert failures_markdown([]).count("\n") == 1


def test_run_markdown_lists_failures_first_and_caps_quiet_runs() -> None:
    rows = [record(id=i, deal_id=str(i), operation="none", status="unchanged") for i in range(10_000)]
    rows += [
        record(id=10_001, deal_id="a", status="updated"),
        record(id=10_002, deal_id="b", status="failed"),
    ]
    md = run_markdown(rows)
    lines = md.splitlines()
    assert lines[0] == "**10002 row(s)**: failed 1, unchanged 10000, updated 1"
    assert [line.split(" | ")[0] for line in lines[4:]] == ["| b", "| a"]
    capped = run_markdown(rows, max_rows=1).splitlines()
    assert capped[4].startswith("| b |") and len(capped) == 7
    assert capped[-1] == "... and 1 more: `SELECT * FROM hspc_sync_history WHERE run_id = 'run-1'`"
    assert run_markdown([]) == "**0 rows**"
