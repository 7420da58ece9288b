"""Every SQL block of docs/history.md, run on SQLite and PostgreSQL against rows appended through the
API, with its answers checked.

A block fenced ```sql runs on both databases; ```sql sqlite or ```sql postgresql on that one only.
Each question (### N. ...) must have SQL for both databases.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hspc_pipelines.history import FieldChange, HistoryEntry, SyncHistory
from hspc_pipelines.history.schema import SCHEMA_VERSION
from hspc_pipelines_tests.support.history import entry

DOC = Path(__file__).resolve().parents[2] / "docs" / "history.md"
DIALECTS = ("sqlite", "postgresql")


def sql_blocks() -> list[tuple[str, tuple[str, ...], str]]:
    """(question number, dialects, sql) for every ```sql block under a '### N.' heading."""
    blocks: list[tuple[str, tuple[str, ...], str]] = []
    question = ""
    fence = re.compile(r"^```sql(?: (\w+))?\n(.*?)^```$", re.S | re.M)
    text = DOC.read_text()
    headings = [(m.start(), m.group(1)) for m in re.finditer(r"^### (\d+)\. ", text, re.M)]
    for match in fence.finditer(text):
        question = next((n for pos, n in reversed(headings) if pos < match.start()), "")
        dialects = (match.group(1),) if match.group(1) else DIALECTS
        assert set(dialects) <= set(DIALECTS), f"unknown dialect {match.group(1)!r} in docs/history.md"
        blocks.append((question, dialects, match.group(2)))
    return blocks


BLOCKS = sql_blocks()


def test_the_doc_answers_the_five_everyday_questions_on_both_databases() -> None:
    covered = {(q, d) for q, dialects, _ in BLOCKS for d in dialects}
    questions = {q for q, _, _ in BLOCKS}
    assert "" not in questions, "an SQL block sits outside a '### N.' question"
    assert {"1", "2", "3", "4", "5"} <= questions
    assert covered == {(q, d) for q in questions for d in DIALECTS}


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)


def _ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def _fixture_rows() -> list[HistoryEntry]:
    """A history that makes every question's answer non-trivial (and wrong answers visible)."""
    reviews = [
        # 1001: submitted 20 days ago, still in review -> waiting since 20 days
        ("1001", 20, "create", "created", "Submitted"),
        ("1001", 16, "update", "updated", "In review"),
        # 1002: approved since -> not waiting
        ("1002", 30, "create", "created", "Submitted"),
        ("1002", 25, "update", "updated", "Approved"),
        # 1003: in review for 5 days only
        ("1003", 5, "create", "created", "Submitted"),
        # 1004: left review (Action Required) and re-submitted 20 days ago -> waiting since 20 days, not 40
        ("1004", 40, "create", "created", "Submitted"),
        ("1004", 35, "update", "updated", "Action Required"),
        ("1004", 20, "update", "updated", "Submitted"),
        ("1004", 18, "update", "updated", "In review"),
        # 1013: in review 17 days, latest row has no review status (a failed write) -> still waiting
        ("1013", 17, "create", "created", "In review"),
    ]
    rows = [
        entry(deal_id=d, run_id=f"run-{d}-{n}", operation=op, status=s, review_status=r, recorded_at=_ago(n))
        for d, n, op, s, r in reviews
    ]
    rows += [
        entry(deal_id="1013", status="failed", reason_code="ConflictException", recorded_at=_ago(15)),
        entry(
            deal_id="1001",
            status="failed",
            reason_code="ValidationException",
            message="bad country",
            recorded_at=_ago(1),
        ),
        entry(deal_id="1005", status="invalid", reason_code="MISSING_FIELD", recorded_at=_ago(2)),
        entry(deal_id="1006", status="failed", reason_code="ValidationException", recorded_at=_ago(3)),
        entry(deal_id="1006", status="failed", reason_code="ValidationException", recorded_at=_ago(3.5)),
        entry(deal_id="1014", status="failed", reason_code=None, recorded_at=_ago(4)),
        entry(deal_id="1007", status="failed", reason_code="ThrottlingException", recorded_at=_ago(10)),
        entry(deal_id="1010", operation="create", status="created", recorded_at=_ago(3)),
        entry(deal_id="1011", operation="create", status="created", recorded_at=_ago(3)),
        entry(deal_id="1012", operation="create", status="created", recorded_at=_ago(2)),
        entry(
            deal_id="1015",
            operation="create",
            status="failed",
            reason_code="AccessDenied",
            recorded_at=_ago(2),
        ),
        entry(
            run_id="run-b",
            deal_id="1008",
            opportunity_id="O1008",
            changes=[
                FieldChange("dealname", "Old", "New"),
                FieldChange("amount", 100, 250),
                FieldChange("hubspot_token", "tok-1", "tok-2"),
            ],
            recorded_at=_ago(0.5),
        ),
        entry(run_id="run-b", deal_id="1009", operation="none", status="unchanged", recorded_at=_ago(0.5)),
        entry(
            run_id="run-b",
            deal_id="1016",
            opportunity_id="O1016",
            operation="write-back",
            status="written",
            changes=[FieldChange("aws_review_status", "Submitted", "Approved")],
            recorded_at=_ago(0.5),
        ),
    ]
    return rows


ROWS = _fixture_rows()


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _expected_creates_per_day() -> list[tuple[str, int]]:
    days: dict[str, int] = {}
    for r in ROWS:
        if r.operation == "create" and r.status == "created":
            assert r.recorded_at is not None
            key = r.recorded_at.date().isoformat()
            days[key] = days.get(key, 0) + 1
    return sorted(days.items())


def _timeline_1001() -> list[tuple[str, str, str | None]]:
    mine = [r for r in ROWS if r.deal_id == "1001"]
    mine.sort(key=lambda r: r.recorded_at or NOW, reverse=True)
    return [(r.operation, r.status, r.reason_code) for r in mine]


def check_answer(question: str, sql: str, rows: list[Any]) -> None:
    if question == "1":
        got = [tuple(r) for r in rows]
        # Ties are ordered by reason in the database's collation, which differs between the two.
        assert sorted(got) == sorted(
            [
                ("failed", "ValidationException", 3, 2),
                ("failed", "(none)", 1, 1),
                ("failed", "AccessDenied", 1, 1),
                ("invalid", "MISSING_FIELD", 1, 1),
            ]
        )
        assert [r[2] for r in got] == sorted((r[2] for r in got), reverse=True)
    elif question == "2":
        got = [(r.deal_id, r.review_status, _day(r.in_review_since)[:10]) for r in rows]
        # 1001 and 1004 entered review at the same instant: ordered by deal id. 1004's stretch starts
        # when it was re-submitted (20 days), not at its first submission (40 days).
        assert got == [
            ("1001", "In review", _ago(20).date().isoformat()),
            ("1004", "In review", _ago(20).date().isoformat()),
            ("1013", "In review", _ago(17).date().isoformat()),
        ]
    elif question == "3" and "json" in sql:
        assert [(r.deal_id, r.field, r.old_value, r.new_value) for r in rows] == [
            # JSON numbers come back as numbers on SQLite and as text on PostgreSQL
            ("1008", "amount", *((100, 250) if isinstance(rows[0].old_value, int) else ("100", "250"))),
            ("1008", "dealname", "Old", "New"),
            ("1008", "hubspot_token", None, None),
            ("1016", "aws_review_status", "Submitted", "Approved"),
        ]
    elif question == "3":
        assert [(r.deal_id, r.operation, r.status) for r in rows] == [
            ("1008", "update", "updated"),
            ("1016", "write-back", "written"),
        ]
        assert "tok-" not in rows[0].changes
        assert {c["field"] for c in json.loads(rows[0].changes)} == {"dealname", "amount", "hubspot_token"}
    elif question == "4":
        assert [(_day(r.day), r.creates) for r in rows] == _expected_creates_per_day()
    elif question == "5":
        assert [(r.operation, r.status, r.reason_code) for r in rows] == _timeline_1001()
        assert [r.run_id for r in rows][-1] == "run-1001-20"
    elif question == "6":
        assert [tuple(r) for r in rows] == [(str(SCHEMA_VERSION),)]
    else:
        raise AssertionError(f"no expected answer for question {question} of docs/history.md")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_sql_block_answers_right(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = (
        f"sqlite:///{tmp_path / 'state.sqlite'}"
        if dialect == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    history = SyncHistory.from_url(url)
    try:
        history.append(ROWS)
        ran = 0
        with history.engine.connect() as conn:
            for question, dialects, sql in BLOCKS:
                if dialect not in dialects:
                    continue
                rows = list(conn.execute(sa.text(sql)))
                check_answer(question, sql, rows)
                ran += 1
        assert ran >= 6
    finally:
        from hspc_pipelines.history.schema import METADATA

        METADATA.drop_all(history.engine)
        history.dispose()
