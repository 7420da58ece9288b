"""Submit requests and how each ended, in the state database, for `GET /submit-opportunity/{requestId}`;
and the submissions the quota deferred, which `submission_retry_sensor` starts again once due.

The ingress records a request as `queued` when it accepts it; the submission run it starts records
`running`, then the outcome (`SubmitRequestStatus`). The database is the state store's (`HSPC_STATE_URL`),
so the ingress and every run worker see the same rows. The request id is the queue envelope's id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hspc_pipelines.mapping.vocabulary import SubmitRequestStatus
from hspc_pipelines.state.store import _sqlite_wal

_METADATA = sa.MetaData()

SUBMIT_REQUESTS = sa.Table(
    "hspc_submit_requests",
    _METADATA,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("deal_id", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("involvement_type", sa.String(32)),
    sa.Column("visibility", sa.String(32)),
    sa.Column("opportunity_id", sa.String(32)),
    sa.Column("review_status", sa.String(32)),
    sa.Column("message", sa.Text),
    sa.Column("problems_json", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


# A submission the 24-hour quota did not cover (nothing was sent): one row per deal, the run config
# of its submission run and when the quota is expected to cover it. Gone once a run ends otherwise.
DEFERRED_SUBMISSIONS = sa.Table(
    "hspc_deferred_submissions",
    _METADATA,
    sa.Column("deal_id", sa.String(32), primary_key=True),
    sa.Column("config_json", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("retry_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class DeferredSubmission:
    deal_id: str
    config: dict[str, Any]  # the submission op's config (deal, choices, request id, who asked)
    reason: str
    retry_at: float  # epoch seconds
    attempts: int  # runs the quota deferred so far
    since: dt.datetime


@dataclass(frozen=True)
class Problem:
    """One reason a request was refused: the field and what is wrong with it."""

    field: str
    problem: str


@dataclass(frozen=True)
class SubmitRequestRecord:
    request_id: str
    deal_id: str
    status: SubmitRequestStatus
    involvement_type: str | None
    visibility: str | None
    opportunity_id: str | None
    review_status: str | None
    message: str | None
    problems: tuple[Problem, ...]
    run_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every time written here is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class SubmitRequestLog:
    """The requests table on one database. Thread-safe through SQLAlchemy's pool."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        _METADATA.create_all(engine)

    @classmethod
    def from_url(cls, url: str) -> SubmitRequestLog:
        is_sqlite = url.startswith("sqlite")
        engine = sa.create_engine(url, connect_args={"timeout": 30} if is_sqlite else {})
        if is_sqlite:
            sa.event.listen(engine, "connect", _sqlite_wal)
        return cls(engine)

    def _insert(self, conn: sa.Connection, table: sa.Table = SUBMIT_REQUESTS) -> Any:
        return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)

    def queued(
        self,
        request_id: str,
        deal_id: str,
        involvement_type: str | None,
        visibility: str | None,
        now: dt.datetime | None = None,
    ) -> None:
        """Record an accepted request; a run that already reported on it keeps its status."""
        at = now or dt.datetime.now(dt.UTC)
        with self._engine.begin() as conn:
            conn.execute(
                self._insert(conn)
                .values(
                    request_id=request_id,
                    deal_id=deal_id,
                    status=SubmitRequestStatus.QUEUED.value,
                    involvement_type=involvement_type,
                    visibility=visibility,
                    problems_json="[]",
                    created_at=at,
                    updated_at=at,
                )
                .on_conflict_do_nothing()
            )

    def forget(self, request_id: str) -> None:
        """Drop a request that never reached the queue (the caller got a 503, no request id)."""
        with self._engine.begin() as conn:
            conn.execute(
                SUBMIT_REQUESTS.delete().where(
                    SUBMIT_REQUESTS.c.request_id == request_id,
                    SUBMIT_REQUESTS.c.status == SubmitRequestStatus.QUEUED.value,
                )
            )

    def record(
        self,
        request_id: str,
        deal_id: str,
        status: SubmitRequestStatus,
        *,
        run_id: str | None = None,
        message: str | None = None,
        problems: Sequence[Problem] = (),
        opportunity_id: str | None = None,
        review_status: str | None = None,
        involvement_type: str | None = None,
        visibility: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """Set the request's status (inserting it when the ingress's row is missing)."""
        at = now or dt.datetime.now(dt.UTC)
        values: dict[str, Any] = {
            "deal_id": deal_id,
            "status": SubmitRequestStatus(status).value,
            "run_id": run_id,
            "message": message,
            "problems_json": json.dumps([{"field": p.field, "problem": p.problem} for p in problems]),
            "opportunity_id": opportunity_id,
            "review_status": review_status,
            "updated_at": at,
        }
        # A choice the run did not report keeps the one the ingress recorded.
        for name, value in (("involvement_type", involvement_type), ("visibility", visibility)):
            if value is not None:
                values[name] = value
        with self._engine.begin() as conn:
            insert = self._insert(conn).values(request_id=request_id, created_at=at, **values)
            conn.execute(insert.on_conflict_do_update(index_elements=["request_id"], set_=values))

    def get(self, request_id: str) -> SubmitRequestRecord | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(SUBMIT_REQUESTS).where(SUBMIT_REQUESTS.c.request_id == request_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return SubmitRequestRecord(
            request_id=row["request_id"],
            deal_id=row["deal_id"],
            status=SubmitRequestStatus(row["status"]),
            involvement_type=row["involvement_type"],
            visibility=row["visibility"],
            opportunity_id=row["opportunity_id"],
            review_status=row["review_status"],
            message=row["message"],
            problems=tuple(Problem(p["field"], p["problem"]) for p in json.loads(row["problems_json"])),
            run_id=row["run_id"],
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
        )

    def defer(
        self,
        deal_id: str,
        config: dict[str, Any],
        reason: str,
        retry_at: float,
        now: dt.datetime | None = None,
    ) -> None:
        """Keep a submission the quota deferred (again: its time moves on, its first time stays)."""
        at = now or dt.datetime.now(dt.UTC)
        values = {"config_json": json.dumps(config, sort_keys=True), "reason": reason, "retry_at": retry_at}
        with self._engine.begin() as conn:
            insert = self._insert(conn, DEFERRED_SUBMISSIONS).values(
                deal_id=deal_id, attempts=1, since=at, **values
            )
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["deal_id"],
                    set_={**values, "attempts": DEFERRED_SUBMISSIONS.c.attempts + 1},
                )
            )

    def settled(self, deal_id: str) -> None:
        """The deal's submission ended other than deferred: nothing to start again."""
        with self._engine.begin() as conn:
            conn.execute(DEFERRED_SUBMISSIONS.delete().where(DEFERRED_SUBMISSIONS.c.deal_id == deal_id))

    def deferred(self) -> list[DeferredSubmission]:
        """The deferred submissions, soonest due first."""
        query = sa.select(DEFERRED_SUBMISSIONS).order_by(DEFERRED_SUBMISSIONS.c.retry_at)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            DeferredSubmission(
                deal_id=r["deal_id"],
                config=json.loads(r["config_json"]),
                reason=r["reason"],
                retry_at=float(r["retry_at"]),
                attempts=int(r["attempts"]),
                since=_aware(r["since"]),
            )
            for r in rows
        ]

    def dispose(self) -> None:
        self._engine.dispose()
