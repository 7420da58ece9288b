"""Apply the plan to Partner Central, row by row in isolation.

A row that fails ends `failed` with the service's code and message and never stops the others; only
an AccessDenied (wrong role or ExternalId) stops the run, because every other row would fail the same
way. Each written record is re-read and stored at once, so a crash before the HubSpot write-back
leaves enough behind for the next run to link instead of creating again.

Rows run on a few threads: each create is a chain (Create, Associate, Get) whose calls wait on the
network, so one thread cannot keep the write quota busy. The client's pacer is shared by the
threads and still spaces every write, so more threads never mean more than the quota.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any, Protocol

from hspc_pipelines.mapping import DealBundle, MappingConfig, build_update_request, hubspot_owned_view
from hspc_pipelines.mapping.view import owned_leaves
from hspc_pipelines.mapping.vocabulary import LOCKED_REVIEW_STATUSES, Operation, RowStatus
from hspc_pipelines.partner_central.errors import (
    QUOTA_DEFERRED,
    AccessDeniedError,
    ConflictError,
    PartnerCentralError,
)
from hspc_pipelines.partner_central.records import to_jsonable, with_timestamps
from hspc_pipelines.quotas.run import Deferred, WriteBudget
from hspc_pipelines.reconcile.outcomes import ApplyResult
from hspc_pipelines.reconcile.plan import diff_views
from hspc_pipelines.settings import DEFAULT_WRITE_WORKERS as DEFAULT_WORKERS
from hspc_pipelines.solutions.sync import opportunity_solution_ids, solution_change
from hspc_pipelines.state.store import SyncStateStore

log = logging.getLogger(__name__)
MAX_CONFLICT_RETRIES = 3
# Failures worth one more try at the end of the step (after botocore's own retries): throttling and
# server errors that outlasted them, a conflict, a connection dropped. Creates carry a deterministic
# ClientToken, so a create repeated after an unseen success returns the same opportunity.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "InternalServerException",
        "ConflictException",
        "ServiceUnavailableException",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "EndpointConnectionError",
        "ConnectionClosedError",
    }
)


class PartnerCentralWriter(Protocol):
    catalog: str

    def create_opportunity(self, request: Mapping[str, Any]) -> dict[str, Any]: ...

    def update_opportunity(self, request: Mapping[str, Any]) -> dict[str, Any]: ...

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]: ...

    def associate_opportunity(
        self, opportunity_id: str, entity_id: str, entity_type: str
    ) -> dict[str, Any]: ...

    def disassociate_opportunity(
        self, opportunity_id: str, entity_id: str, entity_type: str
    ) -> dict[str, Any]: ...


def _result(row: Mapping[str, Any], status: RowStatus, **kw: Any) -> ApplyResult:
    return ApplyResult(
        entity_key=row["entity_key"],
        deal_id=row.get("deal_id"),
        opportunity_id=kw.pop("opportunity_id", row.get("opportunity_id")),
        operation=Operation(row["operation"]),
        status=status,
        partition_date=row["partition_date"],
        **kw,
    )


def _failed(
    row: Mapping[str, Any], exc: PartnerCentralError, opportunity_id: str | None = None
) -> ApplyResult:
    return _result(
        row,
        RowStatus.FAILED,
        error_code=exc.code,
        error_message=str(exc),
        opportunity_id=opportunity_id or row.get("opportunity_id"),
    )


def _deferred(deferred: Deferred) -> ApplyResult:
    return _result(
        deferred.row, RowStatus.DEFERRED, error_code="QuotaDeferred", error_message=deferred.message
    )


Work = Callable[[Mapping[str, Any]], ApplyResult]


def _budgeted(budget: WriteBudget | None, work: Work) -> Work:
    """`work` within the budget (its calls are booked by the client's meter); once Partner Central
    kept answering ThrottlingException past the retries, or the meter found the ledger's window spent,
    that row and every row not started yet are deferred rather than failed; so are the rows not
    started when the run's write time is over (the budget counts writes at the paced rate, but a
    loaded machine or a slow service makes each row take longer than its writes)."""
    if budget is None:
        return work

    def run(row: Mapping[str, Any]) -> ApplyResult:
        why = budget.start()
        if why is not None:
            return _deferred(budget.wait(row, why))
        result = work(row)
        if result.status == RowStatus.FAILED and result.error_code == "ThrottlingException":
            budget.trip()
            return _deferred(budget.defer(row))
        if result.status == RowStatus.FAILED and result.error_code == QUOTA_DEFERRED:
            budget.spent()
            return _deferred(budget.defer(row))
        return result

    return run


def _read_and_store(client: PartnerCentralWriter, store: SyncStateStore, opp_id: str) -> dict[str, Any]:
    record: dict[str, Any] = to_jsonable(client.get_opportunity(opp_id))
    store.put_opportunities(client.catalog, [record])
    return record


def _each_row(
    work: Callable[[Mapping[str, Any]], ApplyResult],
    rows: Sequence[Mapping[str, Any]],
    workers: int,
) -> list[ApplyResult]:
    """`work` for every row on up to `workers` threads; results in the rows' order. The first row
    runs alone, so a configuration error (AccessDenied) costs one call, not one per thread; a later
    exception cancels the rows not started yet and is raised once the started ones end."""
    if workers <= 1 or len(rows) <= 2:
        return [work(row) for row in rows]
    first = work(rows[0])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pc-apply") as pool:
        futures = [pool.submit(work, row) for row in rows[1:]]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            for future in futures:
                future.cancel()
            raise failed.exception()  # type: ignore[misc]
    return [first, *(f.result() for f in futures)]


def apply_creates(
    client: PartnerCentralWriter,
    store: SyncStateStore,
    rows: Iterable[Mapping[str, Any]],
    workers: int = DEFAULT_WORKERS,
    budget: WriteBudget | None = None,
    claimed: int = 0,
    event_scoped: bool = False,
) -> list[ApplyResult]:
    """CreateOpportunity for `create` rows (then their solutions); `link` rows need no call. With a
    `budget`, creates go in its order and those it does not cover (after `claimed` writes kept for
    the run's updates) end deferred; an event-scoped run's creates may spend the reserve."""
    wanted = [row for row in rows if row["operation"] in (Operation.CREATE, Operation.LINK)]
    creates = [row for row in wanted if row["operation"] == Operation.CREATE]
    done: dict[str, ApplyResult] = {}
    if budget is not None:
        budget.watch(client)
        creates, later = budget.admit(creates, creates=not event_scoped, already_claimed=claimed)
        done = {str(d.row["entity_key"]): _deferred(d) for d in later}
    work = _budgeted(budget, lambda row: _create_one(client, store, row))
    try:
        results = _each_row(work, creates, workers)
        results = _read_back_again(client, store, _retry_transient(work, creates, results))
    finally:
        if budget is not None:
            budget.close()
    done.update((r.entity_key, r) for r in results)
    return [done.get(str(row["entity_key"])) or _result(row, RowStatus.LINKED) for row in wanted]


def _retry_transient(
    work: Work, rows: Sequence[Mapping[str, Any]], results: list[ApplyResult]
) -> list[ApplyResult]:
    """One more create, one at a time, for rows that failed on a transient error: at 2% conflicts
    and 10% throttling, a few rows of a thousand otherwise wait for the next run."""
    return [
        work(row) if result.status == RowStatus.FAILED and result.error_code in TRANSIENT_CODES else result
        for row, result in zip(rows, results, strict=True)
    ]


def _read_back_again(
    client: PartnerCentralWriter, store: SyncStateStore, results: list[ApplyResult]
) -> list[ApplyResult]:
    """One more read for creates whose read-back failed (after botocore's retries), so their deals
    get the Partner-Central-owned fields in this run rather than the next."""
    out = []
    for result in results:
        if result.status == RowStatus.CREATED and result.record is None and result.opportunity_id:
            try:
                record = _read_and_store(client, store, result.opportunity_id)
            except AccessDeniedError:
                raise
            except PartnerCentralError:
                pass  # the deal is still linked by id; the next run reads it
            else:
                result = replace(result, record=record, error_code=None, error_message=None)
        out.append(result)
    return out


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
            RowStatus.CREATED,
            opportunity_id=opp_id,
            error_code=exc.code,
            error_message=f"created, but reading it back failed: {exc}",
        )
    if failures:
        return _result(
            row,
            RowStatus.CREATED,
            opportunity_id=opp_id,
            record=record,
            error_code="SolutionAssociation",
            error_message="; ".join(failures),
        )
    return _result(row, RowStatus.CREATED, opportunity_id=opp_id, record=record)


def apply_updates(
    client: PartnerCentralWriter,
    store: SyncStateStore,
    rows: Iterable[Mapping[str, Any]],
    bundles: Mapping[str, DealBundle],
    config: MappingConfig,
    workers: int = DEFAULT_WORKERS,
    budget: WriteBudget | None = None,
) -> list[ApplyResult]:
    """UpdateOpportunity for `update` rows with the full record; on conflict re-read and re-plan. Then
    the row's solutions (`solution_ids`, the deal's `aws_solution_ids`): associated and disassociated
    until the opportunity has exactly those; a row whose only change is its solutions has no request.
    With a `budget`, the rows it does not cover end deferred (updates come before creates in it)."""
    wanted = [row for row in rows if row["operation"] == Operation.UPDATE]
    if budget is not None:
        budget.watch(client)
    attempt, later = budget.admit(wanted, creates=False) if budget is not None else (wanted, [])

    def work(row: Mapping[str, Any]) -> ApplyResult:
        return _update_one(client, store, row, bundles.get(str(row["deal_id"])), config)

    try:
        results = _each_row(_budgeted(budget, work), attempt, workers)
    finally:
        if budget is not None:
            budget.close()
    done = {r.entity_key: r for r in [*results, *map(_deferred, later)]}
    return [done[str(row["entity_key"])] for row in wanted]


def _update_one(
    client: PartnerCentralWriter,
    store: SyncStateStore,
    row: Mapping[str, Any],
    bundle: DealBundle | None,
    config: MappingConfig,
) -> ApplyResult:
    opp_id = str(row["opportunity_id"])
    if row.get("request") is None:
        return _solutions_only(client, store, row)
    request: Mapping[str, Any] = row["request"]
    for attempt in range(MAX_CONFLICT_RETRIES + 1):
        try:
            client.update_opportunity(with_timestamps(request))
            return _with_solutions(client, store, row, _read_and_store(client, store, opp_id))
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
                    RowStatus.BLOCKED,
                    record=current,
                    error_code="InReview",
                    error_message=f"opportunity became '{review}' before the update; it waits",
                )
            rebuilt = build_update_request(bundle, current, config, client.catalog)
            if rebuilt.request is None:
                return _result(
                    row, RowStatus.INVALID, error_message="; ".join(str(e) for e in rebuilt.errors)
                )
            planned = _planned_changes_only(rebuilt.request, current, row.get("changed_fields"), config)
            if not diff_views(hubspot_owned_view(current, config), hubspot_owned_view(planned, config)):
                return _result(row, RowStatus.UNCHANGED, record=current)
            request = planned
            log.info("conflict on %s, retrying on the re-read record (attempt %d)", opp_id, attempt + 1)
        except PartnerCentralError as exc:
            return _failed(row, exc)
    raise AssertionError("unreachable")  # the loop returns on every path


def _planned_changes_only(
    request: Mapping[str, Any], current: Mapping[str, Any], changed: Any, config: MappingConfig
) -> dict[str, Any]:
    """A request rebuilt on a re-read record, with the deal's values only for the members the plan
    changed (`changed_fields`): a member someone edited in Partner Central since the snapshot, or one
    the merge gave Partner Central, keeps the re-read record's value instead of being put back."""
    out = copy.deepcopy(dict(request))
    if not isinstance(changed, Mapping) or not changed:
        return out
    for path, value in owned_leaves(current, config):
        if ".".join(path) in changed:
            continue
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = copy.deepcopy(value)
    return out


def _sync_solutions(
    client: PartnerCentralWriter, store: SyncStateStore, row: Mapping[str, Any], record: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The record after its solutions were made the row's (re-read when anything changed), and the
    failures. Removals first, so a swap at ACE's limit of 10 never goes over it."""
    change = solution_change(row.get("solution_ids") or [], opportunity_solution_ids(record))
    if not change:
        return record, []
    opp_id, failures = str(record["Id"]), []
    calls = [(client.disassociate_opportunity, s, "removing") for s in change.disassociate]
    calls += [(client.associate_opportunity, s, "adding") for s in change.associate]
    for call, solution_id, doing in calls:
        try:
            call(opp_id, solution_id, "Solutions")
        except AccessDeniedError:
            raise
        except PartnerCentralError as exc:
            failures.append(f"{doing} solution {solution_id}: {exc}")
    # Read after the (dis)associations: they change LastModifiedDate, and the store keeps the latest.
    return _read_and_store(client, store, opp_id), failures


def _with_solutions(
    client: PartnerCentralWriter, store: SyncStateStore, row: Mapping[str, Any], record: dict[str, Any]
) -> ApplyResult:
    """An update written: its solutions next; a failure there is kept on the updated row."""
    try:
        record, failures = _sync_solutions(client, store, row, record)
    except AccessDeniedError:
        raise
    except PartnerCentralError as exc:  # the read-back after the solutions
        failures = [f"updated, but reading it back after its solutions failed: {exc}"]
    if failures:
        return _result(
            row,
            RowStatus.UPDATED,
            record=record,
            error_code="SolutionAssociation",
            error_message="; ".join(failures),
        )
    return _result(row, RowStatus.UPDATED, record=record)


def _solutions_only(
    client: PartnerCentralWriter, store: SyncStateStore, row: Mapping[str, Any]
) -> ApplyResult:
    """A row whose only change is its solutions: read, (dis)associate, read back."""
    try:
        record, failures = _sync_solutions(
            client, store, row, _read_and_store(client, store, str(row["opportunity_id"]))
        )
    except AccessDeniedError:
        raise
    except PartnerCentralError as exc:
        return _failed(row, exc)
    if failures:
        return _result(
            row,
            RowStatus.FAILED,
            record=record,
            error_code="SolutionAssociation",
            error_message="; ".join(failures),
        )
    return _result(row, RowStatus.UPDATED, record=record)
