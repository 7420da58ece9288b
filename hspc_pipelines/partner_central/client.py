"""Partner Central Selling client: boto3 with adaptive retries, client-side pacing, one method per operation.

botocore retries throttling and transient errors (`mode="adaptive"`); the pacer in `pacing.py`
spaces every HTTP attempt (retries included, through botocore's `before-send` event) under the read
and write quotas. Each method adds the catalog, strips `ResponseMetadata`, and turns ClientError into
`errors.PartnerCentralError` subclasses. Knows nothing of Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

from hspc_pipelines.mapping.vocabulary import DEFAULT_INVOLVEMENT_TYPE, DEFAULT_VISIBILITY
from hspc_pipelines.partner_central.errors import (
    THROTTLING_CODES,
    PartnerCentralError,
    from_error_response,
    scrub,
)
from hspc_pipelines.partner_central.pacing import (
    DEFAULT_READS_PER_SECOND,
    DEFAULT_WRITES_PER_SECOND,
    OperationPacer,
    pacing_from_settings,
)
from hspc_pipelines.partner_central.session import assumed_role_session
from hspc_pipelines.partner_central.stats import OperationStats
from hspc_pipelines.settings import load_settings

CATALOGS = ("AWS", "Sandbox")
OPPORTUNITY_IDS_PER_FILTER = 20
TASK_IDS_PER_CALL = 10
ENGAGEMENT_IDS_PER_CALL = 10


def parse_timestamp(value: Any) -> dt.datetime:
    """botocore's response timestamp parser, fast for ISO 8601 strings: botocore hands every string to
    dateutil, which took 44 s of a 10,000-opportunity listing (four timestamps each); the standard
    library parses them 30 times faster. Anything else (epoch numbers, odd formats) goes to botocore."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed
    result: dt.datetime = DEFAULT_TIMESTAMP_PARSER(value)
    return result


def check_catalog(catalog: str) -> str:
    if catalog not in CATALOGS:
        raise ValueError(
            f"Partner Central catalog {catalog!r} is not valid: use 'AWS' (production) or "
            "'Sandbox' (AWS's test catalog); set PARTNER_CENTRAL_CATALOG"
        )
    return catalog


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class CallMeter(Protocol):
    """Counts calls against the 24-hour quotas (`quotas.meter.QuotaMeter`): `admit` books a call
    before it is sent or raises `QuotaDeferredError`; `refund` gives back one that was throttled."""

    def admit(self, operation: str) -> None: ...

    def refund(self, operation: str) -> None: ...


def _clean(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


class PartnerCentralClient:
    """Thread-safe wrapper around the `partnercentral-selling` boto3 client."""

    def __init__(
        self,
        catalog: str = "AWS",
        *,
        role_arn: str | None = None,
        external_id: str | None = None,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        reads_per_second: float = DEFAULT_READS_PER_SECOND,
        writes_per_second: float = DEFAULT_WRITES_PER_SECOND,
        max_attempts: int = 8,
        boto3_session: boto3.Session | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        role_session_duration: int = 3600,
    ) -> None:
        self.catalog = check_catalog(catalog)
        self.region = region
        session = boto3_session or boto3.Session(region_name=region)
        if role_arn:
            session = assumed_role_session(
                role_arn, external_id, region, base_session=session, duration_seconds=role_session_duration
            )
        session._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_timestamp
        )
        config = Config(
            region_name=region,
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=16,
            user_agent_extra="hspc",
        )
        self.boto_client = session.client(
            "partnercentral-selling", region_name=region, endpoint_url=endpoint_url, config=config
        )
        self.pacer = OperationPacer(reads_per_second, writes_per_second)
        self.stats = OperationStats()
        # Set by whoever keeps the 24-hour quotas (a run's QuotaMeter over the ledger); None: not kept.
        self.meter: CallMeter | None = None
        service_id = self.boto_client.meta.service_model.service_id.hyphenize()
        self.boto_client.meta.events.register(f"before-send.{service_id}", self._before_send)
        self.boto_client.meta.events.register(f"needs-retry.{service_id}", self._count_throttling)

    @classmethod
    def from_env(cls, **overrides: Any) -> PartnerCentralClient:
        settings = load_settings()
        kw: dict[str, Any] = {
            "role_arn": settings.partner_central_role_arn,
            "external_id": settings.partner_central_external_id,
            "region": settings.aws_region,
            **pacing_from_settings(settings),
            **overrides,
        }
        return cls(settings.partner_central_catalog, **kw)

    def __repr__(self) -> str:
        return f"PartnerCentralClient(catalog={self.catalog!r}, region={self.region!r})"

    # -- transport -------------------------------------------------------------------------------

    def _before_send(self, event_name: str, **_: Any) -> None:
        """Every HTTP attempt, retries included, waits for its quota slot."""
        operation = event_name.rsplit(".", 1)[-1]
        self.stats.record_attempt(operation)
        self.pacer.acquire(operation)

    def _count_throttling(self, event_name: str, response: Any = None, **_: Any) -> None:
        """Every answer botocore sees (before it decides to retry): count the throttling ones. Returns
        None, so botocore's own retry handler still decides."""
        if response is not None:
            code = str(((response[1] or {}).get("Error") or {}).get("Code", ""))
            if code in THROTTLING_CODES:
                self.stats.record_throttled(event_name.rsplit(".", 1)[-1])

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One operation by its API name (`GetOpportunity`), catalog added, ResponseMetadata removed."""
        method = getattr(self.boto_client, xform_name(operation))
        shape = self.boto_client.meta.service_model.operation_model(operation).input_shape
        if shape is not None and "Catalog" in shape.members:
            params.setdefault("Catalog", self.catalog)
        meter = self.meter
        if meter is not None:
            try:
                meter.admit(operation)
            except PartnerCentralError as exc:
                self.stats.record_error(operation, exc.code)
                raise
        self.stats.record_call(operation)  # a call the meter refused was never made
        try:
            return _clean(method(**params))
        except ClientError as exc:
            error = from_error_response(exc.operation_name or operation, exc.response, self.catalog)
            self.stats.record_error(operation, error.code)
            if meter is not None and error.code in THROTTLING_CODES:
                meter.refund(operation)  # refused, not served: it did not spend the quota
            raise error from None
        except ParamValidationError as exc:
            self.stats.record_error(operation, "ParamValidation")
            if meter is not None:
                meter.refund(operation)  # refused before it was sent
            raise PartnerCentralError(operation, "ParamValidation", scrub(str(exc))) from None
        except BotoCoreError as exc:
            code = type(exc).__name__
            self.stats.record_error(operation, code)
            raise PartnerCentralError(operation, code, scrub(str(exc))) from None

    def _pages(self, operation: str, items_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self.call(operation, **params)
            yield from page.get(items_key, [])
            token = page.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    # -- opportunities ---------------------------------------------------------------------------

    def create_opportunity(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """CreateOpportunity; `request` carries ClientToken (reused tokens make it idempotent)."""
        return self.call("CreateOpportunity", **dict(request))

    def update_opportunity(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """UpdateOpportunity with the full record and the server's LastModifiedDate (ConflictError if stale)."""
        return self.call("UpdateOpportunity", **dict(request))

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]:
        return self.call("GetOpportunity", Identifier=opportunity_id)

    def list_opportunities(
        self,
        after: dt.datetime | None = None,
        before: dt.datetime | None = None,
        identifiers: Sequence[str] | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Opportunity summaries, 100 a page; `identifiers` are asked 20 at a time (the API's limit)."""
        params: dict[str, Any] = {"MaxResults": 100, **filters}
        window = {}
        if after is not None:
            window["AfterLastModifiedDate"] = after
        if before is not None:
            window["BeforeLastModifiedDate"] = before
        if window:
            params["LastModifiedDate"] = window
        if identifiers is None:
            yield from self._pages("ListOpportunities", "OpportunitySummaries", **params)
            return
        for chunk in _chunks(list(dict.fromkeys(identifiers)), OPPORTUNITY_IDS_PER_FILTER):
            yield from self._pages("ListOpportunities", "OpportunitySummaries", Identifier=chunk, **params)

    def associate_opportunity(self, opportunity_id: str, entity_id: str, entity_type: str) -> dict[str, Any]:
        """Link a solution (`Solutions`), AWS product or Marketplace offer to an opportunity."""
        return self.call(
            "AssociateOpportunity",
            OpportunityIdentifier=opportunity_id,
            RelatedEntityIdentifier=entity_id,
            RelatedEntityType=entity_type,
        )

    def disassociate_opportunity(
        self, opportunity_id: str, entity_id: str, entity_type: str
    ) -> dict[str, Any]:
        return self.call(
            "DisassociateOpportunity",
            OpportunityIdentifier=opportunity_id,
            RelatedEntityIdentifier=entity_id,
            RelatedEntityType=entity_type,
        )

    def submit_opportunity(
        self,
        opportunity_id: str,
        involvement_type: str = DEFAULT_INVOLVEMENT_TYPE,
        visibility: str | None = DEFAULT_VISIBILITY,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"Identifier": opportunity_id, "InvolvementType": involvement_type}
        if visibility:
            params["Visibility"] = visibility
        return self.call("SubmitOpportunity", **params)

    def assign_opportunity(self, opportunity_id: str, assignee: Mapping[str, Any]) -> dict[str, Any]:
        return self.call("AssignOpportunity", Identifier=opportunity_id, Assignee=dict(assignee))

    def get_aws_opportunity_summary(self, opportunity_id: str) -> dict[str, Any]:
        """AWS's view (insights, team, review) of the partner opportunity `opportunity_id`."""
        return self.call("GetAwsOpportunitySummary", RelatedOpportunityIdentifier=opportunity_id)

    # -- engagement tasks ------------------------------------------------------------------------

    def start_engagement_from_opportunity_task(
        self,
        opportunity_id: str,
        client_token: str,
        involvement_type: str = DEFAULT_INVOLVEMENT_TYPE,
        visibility: str = DEFAULT_VISIBILITY,
    ) -> dict[str, Any]:
        return self.call(
            "StartEngagementFromOpportunityTask",
            Identifier=opportunity_id,
            ClientToken=client_token,
            AwsSubmission={"InvolvementType": involvement_type, "Visibility": visibility},
        )

    def list_engagement_from_opportunity_tasks(self, task_ids: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for chunk in _chunks(list(task_ids), TASK_IDS_PER_CALL):
            out.extend(
                self._pages("ListEngagementFromOpportunityTasks", "TaskSummaries", TaskIdentifier=chunk)
            )
        return out

    def start_engagement_by_accepting_invitation_task(
        self, invitation_id: str, client_token: str
    ) -> dict[str, Any]:
        return self.call(
            "StartEngagementByAcceptingInvitationTask", Identifier=invitation_id, ClientToken=client_token
        )

    def list_engagement_by_accepting_invitation_tasks(self, task_ids: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for chunk in _chunks(list(task_ids), TASK_IDS_PER_CALL):
            out.extend(
                self._pages("ListEngagementByAcceptingInvitationTasks", "TaskSummaries", TaskIdentifier=chunk)
            )
        return out

    # -- invitations -----------------------------------------------------------------------------

    def list_engagement_invitations(
        self,
        participant_type: str = "RECEIVER",
        payload_types: Sequence[str] | None = ("OpportunityInvitation",),
        statuses: Sequence[str] | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"ParticipantType": participant_type, "MaxResults": 100, **filters}
        if payload_types:
            params["PayloadType"] = list(payload_types)
        if statuses:
            params["Status"] = list(statuses)
        yield from self._pages("ListEngagementInvitations", "EngagementInvitationSummaries", **params)

    def get_engagement_invitation(self, invitation_id: str) -> dict[str, Any]:
        return self.call("GetEngagementInvitation", Identifier=invitation_id)

    def accept_engagement_invitation(self, invitation_id: str) -> dict[str, Any]:
        return self.call("AcceptEngagementInvitation", Identifier=invitation_id)

    def reject_engagement_invitation(self, invitation_id: str, reason: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"Identifier": invitation_id}
        if reason:
            params["RejectionReason"] = reason
        return self.call("RejectEngagementInvitation", **params)

    # -- solutions, engagements, snapshots -------------------------------------------------------

    def list_solutions(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """The partner's solutions (all statuses unless `Status=[...]` is given)."""
        yield from self._pages("ListSolutions", "SolutionSummaries", MaxResults=100, **filters)

    def list_engagement_resource_associations(self, **filters: Any) -> Iterator[dict[str, Any]]:
        yield from self._pages(
            "ListEngagementResourceAssociations",
            "EngagementResourceAssociationSummaries",
            MaxResults=1000,
            **filters,
        )

    def list_engagements(
        self,
        opportunity_ids: Sequence[str] | None = None,
        engagement_ids: Sequence[str] | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Engagement summaries; with `opportunity_ids`, those engagements the opportunities belong to."""
        ids = list(engagement_ids or [])
        for opp_id in opportunity_ids or []:
            for assoc in self.list_engagement_resource_associations(
                ResourceType="Opportunity", ResourceIdentifier=opp_id
            ):
                ids.append(str(assoc["EngagementId"]))
        if opportunity_ids is not None and not ids:
            return
        if not ids:
            yield from self._pages("ListEngagements", "EngagementSummaryList", MaxResults=100, **filters)
            return
        for chunk in _chunks(list(dict.fromkeys(ids)), ENGAGEMENT_IDS_PER_CALL):
            yield from self._pages(
                "ListEngagements",
                "EngagementSummaryList",
                MaxResults=100,
                EngagementIdentifier=chunk,
                **filters,
            )

    def list_engagement_members(self, engagement_id: str) -> Iterator[dict[str, Any]]:
        yield from self._pages(
            "ListEngagementMembers", "EngagementMemberList", Identifier=engagement_id, MaxResults=10
        )

    def list_resource_snapshots(self, engagement_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        yield from self._pages(
            "ListResourceSnapshots",
            "ResourceSnapshotSummaries",
            EngagementIdentifier=engagement_id,
            MaxResults=1000,
            **filters,
        )

    def get_resource_snapshot(
        self,
        engagement_id: str,
        resource_id: str,
        template_id: str,
        revision: int | None = None,
        resource_type: str = "Opportunity",
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "EngagementIdentifier": engagement_id,
            "ResourceType": resource_type,
            "ResourceIdentifier": resource_id,
            "ResourceSnapshotTemplateIdentifier": template_id,
        }
        if revision is not None:
            params["Revision"] = revision
        return self.call("GetResourceSnapshot", **params)
