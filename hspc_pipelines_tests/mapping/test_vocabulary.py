"""The vocabulary against its oracles: botocore's partnercentral-selling model for the enums it has,
the Partner Central emulator for the rules on review statuses, and the strings stored before the enums
(frames, warnings, HubSpot property options) for byte-identity."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import botocore.session
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.cosell.invitations.run import InvitationRow
from hspc_pipelines.cosell.summaries.run import SummaryRow
from hspc_pipelines.emulators.partner_central import PartnerCentralEmulator, start_partner_central_emulator
from hspc_pipelines.emulators.partner_central import rules as emulator_rules
from hspc_pipelines.emulators.partner_central.aws_side import REVIEW_EVENTS
from hspc_pipelines.events.triggers import DEAL_EVENTS
from hspc_pipelines.hubspot.webhook_events import KNOWN_SUBSCRIPTION_TYPES
from hspc_pipelines.mapping import MappingConfig, build_create_request, build_update_request
from hspc_pipelines.mapping.properties import CUSTOM_DEAL_PROPERTIES
from hspc_pipelines.mapping.update import plan_update
from hspc_pipelines.mapping.vocabulary import (
    CLOSED_STAGES,
    DEFAULT_INVOLVEMENT_TYPE,
    DEFAULT_VISIBILITY,
    EDITABLE_REVIEW_STATUSES,
    INVOLVEMENT_TYPES,
    LOCKED_REVIEW_STATUSES,
    NOTIFIED_REVIEW_STATUSES,
    PLANNED_STATUS,
    SETTLED_OPERATIONS,
    STAGES,
    SUBMITTED_REVIEW_STATUSES,
    UNSUBMITTABLE_REVIEW_STATUSES,
    VISIBILITIES,
    WATCHED_REVIEW_STATUSES,
    DealEvent,
    DetailType,
    InvitationAction,
    Operation,
    ReviewStatus,
    RowStatus,
    SyncStatus,
    TitleFrozen,
    in_model_order,
    title_freeze,
)
from hspc_pipelines.partner_central.events import KINDS, UNKNOWN
from hspc_pipelines.partner_central.records import with_timestamps
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.outcomes import ApplyResult, DealWrite
from hspc_pipelines.reconcile.plan import DealSnapshot, build_plan
from hspc_pipelines_tests.support.deals import bundle, current_opportunity, good_deal

SERVICE = botocore.session.get_session().get_service_model("partnercentral-selling")


def _botocore_enum(operation: str, *path: str) -> tuple[str, ...]:
    """The enum of a member of an operation's input, walked in botocore's model directly."""
    shape: Any = SERVICE.operation_model(operation).input_shape
    for part in path:
        shape = shape.members[part]
    return tuple(shape.enum)


# -- botocore is the oracle ---------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["CreateOpportunity", "UpdateOpportunity"])
def test_review_status_is_botocores_enum_in_its_order(operation: str) -> None:
    assert tuple(ReviewStatus) == _botocore_enum(operation, "LifeCycle", "ReviewStatus")


def test_review_status_filter_of_list_opportunities_is_the_same_enum() -> None:
    input_shape = SERVICE.operation_model("ListOpportunities").input_shape
    assert input_shape is not None
    shape: Any = input_shape.members["LifeCycleReviewStatus"]
    assert set(shape.member.enum) == set(ReviewStatus)


def test_stages_are_botocores() -> None:
    assert _botocore_enum("CreateOpportunity", "LifeCycle", "Stage") == STAGES
    assert set(STAGES) > CLOSED_STAGES


def test_involvement_types_and_visibilities_are_botocores_with_the_default_first() -> None:
    involvement = _botocore_enum("StartEngagementFromOpportunityTask", "AwsSubmission", "InvolvementType")
    visibility = _botocore_enum("StartEngagementFromOpportunityTask", "AwsSubmission", "Visibility")
    assert sorted(INVOLVEMENT_TYPES) == sorted(involvement) and len(INVOLVEMENT_TYPES) == len(involvement)
    assert sorted(VISIBILITIES) == sorted(visibility) and len(VISIBILITIES) == len(visibility)
    assert INVOLVEMENT_TYPES[0] == DEFAULT_INVOLVEMENT_TYPE == "Co-Sell"
    assert VISIBILITIES[0] == DEFAULT_VISIBILITY == "Full"


# -- the sets are consistent with each other and with the emulator ---------------------------------


def test_the_review_sets_nest_as_the_rules_say() -> None:
    statuses: set[ReviewStatus | None] = {*ReviewStatus, None}
    assert LOCKED_REVIEW_STATUSES < UNSUBMITTABLE_REVIEW_STATUSES < SUBMITTED_REVIEW_STATUSES
    assert WATCHED_REVIEW_STATUSES < SUBMITTED_REVIEW_STATUSES
    assert NOTIFIED_REVIEW_STATUSES < SUBMITTED_REVIEW_STATUSES
    # before submission (editable title) and after (submitted) split every status, and nothing else
    assert not EDITABLE_REVIEW_STATUSES & SUBMITTED_REVIEW_STATUSES
    assert statuses == EDITABLE_REVIEW_STATUSES | SUBMITTED_REVIEW_STATUSES
    # a seller hears about review outcomes, never about a review still going on
    assert not LOCKED_REVIEW_STATUSES & NOTIFIED_REVIEW_STATUSES


def test_the_emulators_own_copies_equal_the_vocabulary() -> None:
    # The emulator keeps its own copies on purpose (an independent stand-in for AWS); they must agree.
    assert emulator_rules.LOCKED_STATUSES == LOCKED_REVIEW_STATUSES
    assert emulator_rules.READ_ONLY_STATUSES == UNSUBMITTABLE_REVIEW_STATUSES


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[PartnerCentralEmulator, str]]:
    emu, server = start_partner_central_emulator()
    yield emu, server.url
    server.stop()
    emu.close()


def _client(url: str) -> Any:
    return boto3.client(
        "partnercentral-selling",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _refusal(call: Any, **request: Any) -> str | None:
    """The field the emulator names when it refuses the call, None when it accepts it."""
    try:
        call(**request)
    except ClientError as exc:
        # Partner Central's ValidationException carries an ErrorList, which botocore's generic error
        # response type does not declare: read it as the mapping it is (as partner_central.errors does).
        response: Mapping[str, Any] = exc.response
        return str(response["ErrorList"][0]["FieldName"])
    return None


@pytest.mark.parametrize("status", list(ReviewStatus))
def test_the_emulator_refuses_exactly_what_the_vocabulary_says(
    emulator: tuple[PartnerCentralEmulator, str], status: ReviewStatus, config: MappingConfig
) -> None:
    """Per review status, over the real protocol: an update is refused while the status is read-only
    (the lock set and Rejected); a new title is refused exactly when `title_freeze` warns; and the
    update the mapping builds (title frozen by the vocabulary) is accepted whenever updates are."""
    emu, url = emulator
    emu.reset()  # (the create's ClientToken is the deal's: each status needs a fresh catalog)
    emu.configure(reads_per_second=None, writes_per_second=None, task_delay_seconds=0.0, denied=False)
    pc = _client(url)
    create = build_create_request(bundle(), config, "AWS")
    assert create.request is not None, create.errors
    created = pc.create_opportunity(**with_timestamps(create.request))
    reviewed = requests.post(
        f"{url}/_emulator/opportunities/{created['Id']}/review", json={"ReviewStatus": status}, timeout=5
    )
    assert reviewed.status_code == 200, reviewed.text
    current = pc.get_opportunity(Catalog="AWS", Identifier=created["Id"])
    renamed = bundle(good_deal(dealname="Another title #AWS"))
    mapped = build_update_request(renamed, current, config, "AWS")
    assert mapped.request is not None, mapped.errors
    old_title = current["Project"]["Title"]
    frozen = title_freeze(status, old_title, "Another title")
    assert (mapped.request["Project"]["Title"] == old_title) == (frozen is not None)
    assert any(w.startswith(TitleFrozen.CODE) for w in mapped.warnings) == (frozen is not None)

    retitled = {**mapped.request, "Project": {**mapped.request["Project"], "Title": "Another title"}}
    refused = _refusal(pc.update_opportunity, **with_timestamps(retitled))
    if status in UNSUBMITTABLE_REVIEW_STATUSES:
        assert refused == "LifeCycle.ReviewStatus"
        assert _refusal(pc.update_opportunity, **with_timestamps(mapped.request)) == "LifeCycle.ReviewStatus"
        return
    assert status not in LOCKED_REVIEW_STATUSES
    assert refused == ("Project.Title" if frozen is not None else None)
    if refused is not None:  # the accepted retitle above moved LastModifiedDate otherwise
        assert _refusal(pc.update_opportunity, **with_timestamps(mapped.request)) is None


# -- the title freeze ---------------------------------------------------------------------------------

STATUSES = st.one_of(st.none(), st.sampled_from(list(ReviewStatus)), st.text(max_size=20))
TITLES = st.one_of(st.none(), st.text(max_size=300))


@given(STATUSES, TITLES, TITLES)
def test_title_freeze_warns_exactly_for_a_change_after_submission(
    status: str | None, old: str | None, new: str | None
) -> None:
    frozen = title_freeze(status, old, new)
    assert (frozen is None) == (status in EDITABLE_REVIEW_STATUSES or old == new)
    if frozen is not None:
        text = str(frozen)
        assert text.startswith(f"{TitleFrozen.CODE}: title ")
        assert (frozen.wanted, frozen.kept, frozen.review_status) == (new, old, status)
        assert repr(str(new)[:255]) in text and repr(str(old)[:255]) in text


def test_title_freeze_text_is_the_one_stored_before() -> None:
    # Stored plans and settled pairs hold this text: it must not change.
    assert str(title_freeze("Approved", "Old", "New")) == (
        "title_frozen: title 'New' not applied: the opportunity was submitted (review status Approved); "
        "Partner Central keeps 'Old'"
    )


@given(
    st.sampled_from([*ReviewStatus, None]),
    st.sampled_from(["Old title", "Acme data platform", "Something else entirely"]),
)
def test_the_typed_freeze_is_found_where_the_prefix_was(status: str | None, title: str) -> None:
    config = MappingConfig.default()
    current = current_opportunity(ReviewStatus=status)
    current["Project"]["Title"] = title
    plan = plan_update(bundle(), current, config, "AWS")
    assert (plan.title_frozen is not None) == any(w.startswith("title_frozen") for w in plan.warnings)
    assert (plan.wanted_title is not None) == (plan.title_frozen is not None and not plan.errors)


@given(st.one_of(st.none(), st.sampled_from(list(ReviewStatus)), st.text(max_size=12)))
def test_a_changed_pair_waits_exactly_in_the_lock_statuses(status: str | None) -> None:
    """The plan's side of the lock rule, for any status a record may carry (junk included)."""
    opportunity = current_opportunity(ReviewStatus=status)  # differs from the deal (customer name...)
    (row,) = build_plan(
        [DealSnapshot(bundle(), "2026-01-02")], [opportunity], {}, MappingConfig.default(), "AWS"
    )
    assert row.changed_fields
    assert row.operation == (Operation.BLOCKED if status in LOCKED_REVIEW_STATUSES else Operation.UPDATE)


# -- the sync's words ---------------------------------------------------------------------------------


def test_every_operation_has_its_planned_status_and_settled_ones_are_operations() -> None:
    assert set(PLANNED_STATUS) == set(Operation)
    assert set(PLANNED_STATUS.values()) < set(RowStatus)
    assert set(Operation) > SETTLED_OPERATIONS


def test_event_names_have_one_home() -> None:
    assert KNOWN_SUBSCRIPTION_TYPES == DEAL_EVENTS == frozenset(DealEvent)
    assert all(event.startswith("deal.") for event in DealEvent)
    assert set(KINDS) == set(DetailType) and UNKNOWN not in KINDS.values()
    # what the emulator publishes when AWS's reviewer decides is a detail type hspc understands
    assert set(REVIEW_EVENTS) <= set(ReviewStatus) and set(REVIEW_EVENTS.values()) <= set(DetailType)


def test_watched_statuses_go_to_hubspot_in_the_order_they_always_had() -> None:
    assert in_model_order(WATCHED_REVIEW_STATUSES) == [
        "Submitted",
        "In review",
        "Approved",
        "Action Required",
    ]
    assert all(type(s) is str for s in in_model_order(WATCHED_REVIEW_STATUSES))


def test_hubspot_property_options_are_the_vocabulary_as_plain_strings() -> None:
    options = {p["name"]: [o["value"] for o in p.get("options", [])] for p in CUSTOM_DEAL_PROPERTIES}
    assert options["aws_review_status"] == [s.value for s in ReviewStatus]
    assert options["aws_stage"] == list(STAGES)
    assert options["aws_sync_status"] == ["synced", "pending", "blocked", "invalid", "failed"]
    assert options["aws_sync_status"] == [s.value for s in SyncStatus]
    assert options["aws_involvement_type"] == ["Co-Sell", "For Visibility Only"]
    assert options["aws_visibility"] == ["Full", "Limited"]
    assert all(type(v) is str for values in options.values() for v in values)


# -- frames hold plain strings, as before -------------------------------------------------------------


def _plain(df: Any, column: str) -> list[str]:
    values = [v for v in df[column].tolist() if v is not None]
    assert all(type(v) is str for v in values), (column, [type(v) for v in values])
    return values


def test_the_plan_frame_holds_the_same_strings(config: MappingConfig) -> None:
    linked = current_opportunity(ReviewStatus="Submitted")
    snaps = [
        DealSnapshot(bundle(), "2026-01-02"),  # linked by identifier; the deal's title differs: blocked
        DealSnapshot(bundle(deal_id="124"), "2026-01-02"),  # nothing in Partner Central: create
        DealSnapshot(bundle(good_deal(dealname="no tag"), deal_id="125"), "2026-01-02"),  # not co-sell
    ]
    rows = build_plan(snaps, [linked], {}, config, "AWS")
    df = frames.plan_frame(rows)
    assert _plain(df, "operation") == ["blocked", "create"]
    assert [r.operation for r in rows] == [Operation.BLOCKED, Operation.CREATE]
    updates = frames.plan_rows(df)[0]["deal_updates"]
    assert updates["aws_sync_status"] == "blocked" and type(updates["aws_sync_status"]) is str
    assert b"vocabulary" not in pickle.dumps(df)  # no enum member went into the frame


def test_results_and_writes_frames_hold_the_same_strings() -> None:
    result = ApplyResult("deal:1", "1", "O1", Operation.CREATE, RowStatus.CREATED, "2026-01-02")
    df = frames.results_frame([result])
    assert _plain(df, "operation") == ["create"] and _plain(df, "status") == ["created"]
    assert b"vocabulary" not in pickle.dumps(df)
    (back,) = frames.apply_results(df)
    assert back == result and type(back.status) is RowStatus and type(back.operation) is Operation

    write = DealWrite(
        "1", "deal:1", "2026-01-02", RowStatus.WRITTEN, {"aws_sync_status": SyncStatus.SYNCED.value}
    )
    writes = frames.writes_frame([(write, RowStatus.FAILED, 0, "boom")])
    assert _plain(writes, "final_status") == ["written"] and _plain(writes, "write_status") == ["failed"]
    assert b"vocabulary" not in pickle.dumps(writes)


def test_flow_rows_leave_as_plain_strings() -> None:
    summary = SummaryRow("1", "O1", RowStatus.WRITTEN).as_dict()
    assert summary["status"] == "written" and type(summary["status"]) is str
    invitation = InvitationRow("engi-1", "deal_created", InvitationAction.DEAL_CREATED).as_dict()
    assert invitation["action"] == "deal_created" and type(invitation["action"]) is str
