"""Apply the plan to Partner Central, row by row in isolation.

A row that fails ends `failed` with the service's code and message and never stops the others; only
an AccessDenied (wrong role or ExternalId) stops the run, because every other row would fail the same
way. Each written record is re-read and stored at once, so a crash before the HubSpot write-back
leaves enough behind for the next run to link instead of creating again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from hspc_pipelines.mapping import DealBundle, MappingConfig, build_update_request, hubspot_owned_view
from hspc_pipelines.partner_central.errors import AccessDeniedError, ConflictError, PartnerCentralError
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines.sync.outcomes import ApplyResult
from hspc_pipelines.sync.plan import LOCKED_REVIEW_STATUSES, diff_views
from hspc_pipelines.sync.records import to_jsonable, with_timestamps

log = logging.getLogger(__name__)
MAX_CONFLICT_RETRIES = 3


class PartnerCentralWriter(Protocol):
    catalog: str

    def create_opportunity(self, request: Mapping[str, Any]) -> dict[str, Any]: ...

    def update_opportunity(self, request: Mapping[str, Any]) -> dict[str, Any]: ...

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]: ...

    def associate_opportunity(
        self, opportunity_id: str, entity_id: str, entity_type: str
    ) -> dict[str, Any]: ...


def _result(row: Mapping[str, Any], status: str, **kw: Any) -> ApplyResult:
    return ApplyResult(
        entity_key=row["entity_key"],
        deal_id=row.get("deal_id"),
        opportunity_id=kw.pop("opportunity_id", row.get("opportunity_id")),
        operation=row["operation"],
        status=status,
        partition_date=row["partition_date"],
        **kw,
    )


def _failed(
    row: Mapping[str, Any], exc: PartnerCentralError, opportunity_id: str | None = None
) -> ApplyResult:
    return _result(
        row,
        "failed",
        error_code=exc.code,
        error_message=str(exc),
        opportunity_id=opportunity_id or row.get("opportunity_id"),
    )


def _read_and_store(client: PartnerCentralWriter, store: SyncStateStore, opp_id: str) -> dict[str, Any]:
    record: dict[str, Any] = to_jsonable(client.get_opportunity(opp_id))
    store.put_opportunities(client.catalog, [record])
    return record


def apply_creates(
    client: PartnerCentralWriter,
    store: SyncStateStore,
    rows: Iterable[Mapping[str, Any]],
    on_result: Callable[[ApplyResult], None] | None = None,
) -> list[ApplyResult]:
    """CreateOpportunity for `create` rows (then their solutions); `link` rows need no call."""
    results = []
    for row in rows:
        if row["operation"] == "link":
            result = _result(row, "linked")
        elif row["operation"] != "create":
            continue
        else:
            result = _create_one(client, store, row)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def _create_one(client: PartnerCentralWriter, store: SyncStateStore, row: Mapping[str, Any]) -> ApplyResult:
    try:
        created = client.create_opportunity(with_timestamps(row["request"]))
    except AccessDeniedError:
        raise
    except PartnerCentralError as exc:
        return _failed(row, exc)
    opp_id = str(created["Id"])
    # Store what we know at once, so a crash before the write-back still links on the next run.
    store.put_opportunities(
        client.catalog,
        [{**row["request"], "Id": opp_id, "LastModifiedDate": to_jsonable(created["LastModifiedDate"])}],
    )
    failures = []
    for solution_id in row.get("solution_ids") or []:
        try:
            client.associate_opportunity(opp_id, solution_id, "Solutions")
        except AccessDeniedError:
            raise
        except PartnerCentralError as exc:
            failures.append(f"solution {solution_id}: {exc}")
    try:
        # Read after the associations: they change LastModifiedDate, and the stored stamp must be the
        # latest, or the next run's snapshot would fetch this opportunity again.
        record = _read_and_store(client, store, opp_id)
    except AccessDeniedError:
        raise
    except PartnerCentralError as exc:
        return _result(
            row,
            "created",
            opportunity_id=opp_id,
            error_code=exc.code,
            error_message=f"created, but reading it back failed: {exc}",
        )
    if failures:
        return _result(
            row,
            "created",
            opportunity_id=opp_id,
            record=record,
            error_code="SolutionAssociation",
            error_message="; ".join(failures),
        )
    return _result(row, "created", opportunity_id=opp_id, record=record)


def apply_updates(
    client: PartnerCentralWriter,
    store: SyncStateStore,
    rows: Iterable[Mapping[str, Any]],
    bundles: Mapping[str, DealBundle],
    config: MappingConfig,
    on_result: Callable[[ApplyResult], None] | None = None,
) -> list[ApplyResult]:
    """UpdateOpportunity for `update` rows with the full record; on conflict re-read and re-plan."""
    results = []
    for row in rows:
        if row["operation"] != "update":
            continue
        result = _update_one(client, store, row, bundles.get(str(row["deal_id"])), config)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def _update_one(
    client: PartnerCentralWriter,
    store: SyncStateStore,
    row: Mapping[str, Any],
    bundle: DealBundle | None,
    config: MappingConfig,
) -> ApplyResult:
    opp_id = str(row["opportunity_id"])
    request: Mapping[str, Any] = row["request"]
    for attempt in range(MAX_CONFLICT_RETRIES + 1):
        try:
            client.update_opportunity(with_timestamps(request))
            return _result(row, "updated", record=_read_and_store(client, store, opp_id))
        except AccessDeniedError:
            raise
        except ConflictError as exc:
            # Someone changed the opportunity since the snapshot: merge onto the fresh record.
            if attempt == MAX_CONFLICT_RETRIES or bundle is None:
                return _failed(row, exc)
            try:
                current = _read_and_store(client, store, opp_id)
            except PartnerCentralError as read_exc:
                return _failed(row, read_exc)
            review = (current.get("LifeCycle") or {}).get("ReviewStatus")
            if review in LOCKED_REVIEW_STATUSES:
                return _result(
                    row,
                    "blocked",
                    record=current,
                    error_code="InReview",
                    error_message=f"opportunity became '{review}' before the update; it waits",
                )
            rebuilt = build_update_request(bundle, current, config, client.catalog)
            if rebuilt.request is None:
                return _result(row, "invalid", error_message="; ".join(str(e) for e in rebuilt.errors))
            if not diff_views(
                hubspot_owned_view(current, config), hubspot_owned_view(rebuilt.request, config)
            ):
                return _result(row, "unchanged", record=current)
            request = rebuilt.request
            log.info("conflict on %s, retrying on the re-read record (attempt %d)", opp_id, attempt + 1)
        except PartnerCentralError as exc:
            return _failed(row, exc)
    raise AssertionError("unreachable")  # the loop returns on every path
