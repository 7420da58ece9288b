"""DataFrame layouts of the reconcile assets, and conversions to and from the engine's rows.

Every frame carries `partition_date` (midnight UTC of the day it is filed under) so that the DuckDB IO
manager can replace exactly the rows of a run's window. Nested data is stored as JSON text, which
keeps the tables queryable with SQL (`json_extract`) and the schemas stable.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any, overload

import pandas as pd

from hspc_pipelines.mapping import DealBundle
from hspc_pipelines.mapping.values import dig, string_member
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus, plain_fields
from hspc_pipelines.partner_central.records import StoredRecord, dumps, dumps_fast, loads
from hspc_pipelines.reconcile.outcomes import ApplyResult, DealWrite
from hspc_pipelines.reconcile.plan import DealSnapshot, DealText, PlanRow

DEAL_COLUMNS = (
    "deal_id",
    "partition_date",
    "last_modified",
    "dealname",
    "pipeline",
    "dealstage",
    "aws_opportunity_id",
    "archived",
    "deal_json",
    "company_json",
    "contacts_json",
)
OPPORTUNITY_COLUMNS = (
    "opportunity_id",
    "partition_date",
    "last_modified",
    "partner_opportunity_identifier",
    "review_status",
    "stage",
    "title",
    "source",
    "record_json",
)
SOLUTION_COLUMNS = ("solution_id", "partition_date", "name", "category", "status", "arn", "created_date")
PLAN_COLUMNS = (
    "entity_key",
    "partition_date",
    "deal_id",
    "opportunity_id",
    "operation",
    "reason",
    "changed_fields_json",
    "request_json",
    "deal_updates_json",
    "deal_current_json",
    "notes_json",
    "errors_json",
    "warnings_json",
    "solution_ids_json",
    "conflicts_json",
    "record_updates_json",
)
RESULT_COLUMNS = (
    "entity_key",
    "partition_date",
    "deal_id",
    "opportunity_id",
    "operation",
    "status",
    "error_code",
    "error_message",
    "record_json",
)
WRITE_COLUMNS = (
    "entity_key",
    "partition_date",
    "deal_id",
    "final_status",
    "write_status",
    "properties_json",
    "notes_written",
    "error_message",
)


def day(value: str | dt.date | dt.datetime) -> str:
    """The ISO day a value falls on (UTC)."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame with exactly `columns`; partition_date as timestamps, everything else as given."""
    return _typed(pd.DataFrame(list(rows), columns=list(columns)), columns)


def _typed(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """partition_date as timestamps, text columns as pandas strings."""
    df["partition_date"] = pd.to_datetime(df["partition_date"], utc=True).dt.tz_convert(None)
    for col in columns:
        if col != "partition_date" and df[col].dtype == object:
            df[col] = df[col].astype("string")
    return df


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts, missing values as None and partition_date as an ISO day."""
    out: list[dict[str, Any]] = []
    for row in df.to_dict("records"):
        clean: dict[str, Any] = {str(k): (None if _is_missing(v) else v) for k, v in row.items()}
        stamp = clean.get("partition_date")
        if stamp is not None:
            clean["partition_date"] = day(pd.Timestamp(stamp).to_pydatetime())
        out.append(clean)
    return out


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _column(df: pd.DataFrame, name: str) -> list[Any]:
    """One column as `records` gives its values (missing ones as None), without building row dicts."""
    series = df[name]
    values: list[Any] = series.to_numpy(dtype=object).tolist()
    missing = series.isna().to_numpy()
    if missing.any():
        for i in missing.nonzero()[0].tolist():
            values[i] = None
    return values


def _days(df: pd.DataFrame) -> list[str | None]:
    """`partition_date` as `records` gives it (an ISO day), converting each distinct value once."""
    seen: dict[Any, str] = {}
    out: list[str | None] = []
    for stamp in _column(df, "partition_date"):
        if stamp is None:
            out.append(None)
            continue
        text = seen.get(stamp)
        if text is None:
            text = seen[stamp] = day(pd.Timestamp(stamp).to_pydatetime())
        out.append(text)
    return out


# -- deals --------------------------------------------------------------------------------------------


def deals_frame(snapshots: Iterable[DealSnapshot]) -> pd.DataFrame:
    rows = []
    for snap in snapshots:
        props = snap.bundle.deal
        rows.append(
            {
                "deal_id": snap.bundle.deal_id,
                "partition_date": snap.partition_date,
                "last_modified": props.get("hs_lastmodifieddate"),
                "dealname": props.get("dealname"),
                "pipeline": props.get("pipeline"),
                "dealstage": props.get("dealstage"),
                "aws_opportunity_id": props.get("aws_opportunity_id"),
                "archived": snap.archived,
                "deal_json": dumps(dict(props)),
                "company_json": dumps(dict(snap.bundle.company)) if snap.bundle.company is not None else None,
                "contacts_json": dumps([dict(c) for c in snap.bundle.contacts]),
            }
        )
    df = frame(rows, DEAL_COLUMNS)
    df["archived"] = df["archived"].astype(bool)
    return df


class DealSnapshots(Sequence[DealSnapshot]):
    """The deal frame as snapshots, each decoded from its row when it is reached.

    A plan over N deals holds one decoded deal at a time (plus what its plan row keeps), rather
    than N; iterating again decodes again. Property names are interned: a plan row keeps a copy
    of the deal's properties, and 100,000 copies of the same 30 names add up."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._ids = _column(df, "deal_id")
        self._linked = _column(df, "aws_opportunity_id")
        self._days = _days(df)
        self._archived = _column(df, "archived")
        self._deals = _column(df, "deal_json")
        self._companies = _column(df, "company_json")
        self._contacts = _column(df, "contacts_json")

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> DealSnapshot: ...

    @overload
    def __getitem__(self, index: slice) -> list[DealSnapshot]: ...

    def __getitem__(self, index: int | slice) -> DealSnapshot | list[DealSnapshot]:
        if isinstance(index, slice):
            return [self._snapshot(i) for i in range(len(self))[index]]
        return self._snapshot(range(len(self))[index])

    def __iter__(self) -> Iterator[DealSnapshot]:
        for i in range(len(self)):
            yield self._snapshot(i)

    def text(self, index: int) -> DealText:
        """Row `index` undecoded: what a settled pair's fingerprint is taken from."""
        i = range(len(self))[index]
        linked = self._linked[i]
        return DealText(
            deal_id=str(self._ids[i]),
            partition_date=self._days[i],  # type: ignore[arg-type]
            linked_id=linked if isinstance(linked, str) and linked else None,
            archived=bool(self._archived[i]),
            deal=self._deals[i],
            company=self._companies[i],
            contacts=self._contacts[i],
        )

    def _snapshot(self, i: int) -> DealSnapshot:
        deal = loads(self._deals[i]) or {}
        if type(deal) is dict:
            deal = {sys.intern(k): v for k, v in deal.items()}
        bundle = DealBundle(
            deal_id=str(self._ids[i]),
            deal=deal,
            company=loads(self._companies[i]),
            contacts=loads(self._contacts[i]) or [],
        )
        return DealSnapshot(bundle=bundle, partition_date=self._days[i], archived=bool(self._archived[i]))  # type: ignore[arg-type]


def deal_snapshots(df: pd.DataFrame) -> Sequence[DealSnapshot]:
    """The deals as snapshots, decoded lazily (see `DealSnapshots`): iterate, or index."""
    return DealSnapshots(df)


# -- opportunities ------------------------------------------------------------------------------------


def opportunities_frame(items: Iterable[tuple[Mapping[str, Any], str, str]]) -> pd.DataFrame:
    """From (JSON-safe record, partition day, source) triples."""
    rows = []
    for record, partition, source in items:
        rows.append(
            {
                "opportunity_id": record["Id"],
                "partition_date": partition,
                "last_modified": record.get("LastModifiedDate"),
                "partner_opportunity_identifier": record.get("PartnerOpportunityIdentifier"),
                "review_status": string_member(dig(record, "LifeCycle", "ReviewStatus")),
                "stage": string_member(dig(record, "LifeCycle", "Stage")),
                "title": string_member(dig(record, "Project", "Title")),
                "source": source,
                "record_json": dumps(record),
            }
        )
    return frame(rows, OPPORTUNITY_COLUMNS)


def opportunity_records(df: pd.DataFrame) -> tuple[list[Mapping[str, Any]], dict[str, str]]:
    """Records, and the partition day of those fetched because they changed in the window.

    Each record is a `StoredRecord`: a read-only mapping over the row's JSON, decoded when read, so
    that `build_plan` decodes one record at a time (`StoredRecord.decode` gives the dict)."""
    recs: list[Mapping[str, Any]] = []
    partitions: dict[str, str] = {}
    ids = _column(df, "opportunity_id")
    idents = _column(df, "partner_opportunity_identifier")
    sources = _column(df, "source")
    days = _days(df)
    for text, opp_id, ident, source, partition in zip(
        _column(df, "record_json"), ids, idents, sources, days, strict=True
    ):
        if text and isinstance(opp_id, str) and (ident is None or isinstance(ident, str)):
            recs.append(StoredRecord(text, opp_id, ident))
        else:
            recs.append(loads(text))
        if source == "window":
            partitions[str(opp_id)] = partition  # type: ignore[assignment]
    return recs, partitions


# -- plan ---------------------------------------------------------------------------------------------


def plan_frame(rows: Iterable[PlanRow]) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {c: [] for c in PLAN_COLUMNS}
    (
        entity_key,
        partition_date,
        deal_id,
        opportunity_id,
        operation,
        reason,
        changed_fields,
        request,
        deal_updates,
        deal_current,
        notes,
        errors,
        warnings,
        solution_ids,
        conflicts,
        record_updates,
    ) = (columns[c].append for c in PLAN_COLUMNS)
    for r in rows:
        entity_key(r.entity_key)
        partition_date(r.partition_date)
        deal_id(r.deal_id)
        opportunity_id(r.opportunity_id)
        operation(str(r.operation))  # a plain str, as stored before the enum
        reason(r.reason)
        changed_fields(dumps({k: list(v) for k, v in r.changed_fields.items()}) if r.changed_fields else "{}")
        request(dumps(r.request) if r.request is not None else None)
        deal_updates(dumps_fast(r.deal_updates))
        deal_current(dumps_fast(r.deal_current))
        notes(dumps([asdict(n) for n in r.notes]) if r.notes else "[]")
        errors(dumps_fast(r.errors))
        warnings(dumps_fast(r.warnings))
        solution_ids(dumps_fast(r.solution_ids))
        conflicts(dumps(r.conflicts) if r.conflicts else "[]")
        record_updates(dumps(r.record_updates) if r.record_updates else "[]")
    if not columns["entity_key"]:
        return frame([], PLAN_COLUMNS)
    return _typed(pd.DataFrame(columns, columns=list(PLAN_COLUMNS)), PLAN_COLUMNS)


def plan_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Plan rows as dicts with the JSON columns decoded (keys without the `_json` suffix)."""
    out = []
    for row in records(df):
        decoded = {k: v for k, v in row.items() if not k.endswith("_json")}
        for k, v in row.items():
            if k.endswith("_json"):
                decoded[k[: -len("_json")]] = loads(v)
        out.append(decoded)
    return out


# -- apply results and writes -------------------------------------------------------------------------


def results_frame(results: Iterable[ApplyResult]) -> pd.DataFrame:
    rows = []
    for r in results:
        row = asdict(r, dict_factory=plain_fields)
        row["record_json"] = dumps(row.pop("record")) if r.record is not None else None
        rows.append(row)
    return frame(rows, RESULT_COLUMNS)


def apply_results(df: pd.DataFrame) -> list[ApplyResult]:
    out = []
    for row in records(df):
        record = loads(row.pop("record_json"))
        row["operation"], row["status"] = Operation(row["operation"]), RowStatus(row["status"])
        out.append(ApplyResult(record=record, **row))
    return out


def writes_frame(writes: Iterable[tuple[DealWrite, str, int, str | None]]) -> pd.DataFrame:
    """From (write, write_status, notes written, error) tuples."""
    rows = [
        {
            "entity_key": w.entity_key,
            "partition_date": w.partition_date,
            "deal_id": w.deal_id,
            "final_status": str(w.final_status),
            "write_status": str(status),
            "properties_json": dumps(w.properties),
            "notes_written": notes,
            "error_message": error,
        }
        for w, status, notes, error in writes
    ]
    df = frame(rows, WRITE_COLUMNS)
    df["notes_written"] = df["notes_written"].astype("int64")
    return df
