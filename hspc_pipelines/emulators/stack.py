"""The local stack: HubSpot and Partner Central emulators plus moto (SQS, STS, EventBridge, SSM, S3).

Wiring mirrors production: Partner Central events go to EventBridge's default bus (moto), a rule on
`source: aws.partnercentral-selling` targets the events queue, and the queue redrives to a DLQ
after 5 receives. `.env` holds every variable the product reads, pointing at the emulators.

    with EmulatorStack(deals=200, seed=1) as stack:
        os.environ.update(stack.env)
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from ._server import RunningServer, free_port
from .partner_central import EventBridgeSink, PartnerCentralEmulator, start_partner_central_emulator

log = logging.getLogger(__name__)
DEMO_MAPPING_CONFIG = Path(__file__).with_name("demo_mapping.yaml")
REGION = "us-east-1"
QUEUE_NAME = "hspc-partner-central-events"
DLQ_NAME = "hspc-partner-central-events-dlq"
RULE_NAME = "hspc-partner-central-events"
MAX_RECEIVE_COUNT = 5
HUBSPOT_TOKEN = "local-hubspot-token"
HUBSPOT_CLIENT_SECRET = "local-hubspot-client-secret"
# The app's client id: not in `.env` (with HUBSPOT_ACCESS_TOKEN it would make the mode ambiguous); set
# HUBSPOT_CLIENT_ID to it and unset HUBSPOT_ACCESS_TOKEN to run with client-credentials tokens.
HUBSPOT_CLIENT_ID = "local-hubspot-client-id"
DEFAULT_SOLUTIONS = (
    {"Name": "Data Platform on AWS", "Category": "Software Product"},
    {"Name": "Managed Migration Services", "Category": "Consulting Service"},
    {"Name": "Security Operations", "Category": "Managed Service"},
)


class EmulatorStack:
    """Context manager; `.env`, `.hubspot`, `.partner_central`, `.moto_url`, `.queue_url`, `.dlq_url`."""

    def __init__(
        self,
        deals: int = 0,
        seed: int = 0,
        *,
        host: str = "127.0.0.1",
        catalog: str = "AWS",
        webhook_url: str | None = None,
        pc_reads_per_second: float | None = None,
        pc_writes_per_second: float | None = None,
        pc_writes_per_day: int | None = None,
        pc_reads_per_day: int | None = None,
        pc_quota_window_seconds: float = 86_400.0,
        task_delay_seconds: float = 0.0,
        solutions: tuple[dict[str, Any], ...] = DEFAULT_SOLUTIONS,
        deliver_events: bool = True,
    ) -> None:
        self.deals, self.seed, self.host, self.catalog = deals, seed, host, catalog
        self.webhook_url = webhook_url
        self.pc_limits = (pc_reads_per_second, pc_writes_per_second)
        self.pc_daily = (pc_reads_per_day, pc_writes_per_day, pc_quota_window_seconds)
        self.task_delay_seconds = task_delay_seconds
        self.solutions = solutions
        # False: Partner Central's events are kept by the emulator (`events_published`) but not put on
        # EventBridge, for runs that never read the queue (its backlog costs moto CPU in this process).
        self.deliver_events = deliver_events
        self.env: dict[str, str] = {}
        self.hubspot: Any = None
        self.partner_central: PartnerCentralEmulator | None = None
        self.moto_url = ""
        self.queue_url = ""
        self.dlq_url = ""
        self._moto: ThreadedMotoServer | None = None
        self._servers: list[RunningServer] = []

    def aws_client(self, service: str) -> Any:
        """A boto3 client on moto with the stack's dummy credentials."""
        return boto3.client(  # type: ignore[call-overload]  # service chosen at run time
            service,
            endpoint_url=self.moto_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def __enter__(self) -> EmulatorStack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        # moto's werkzeug logs every request to stderr; the stack's callers want their own output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        port = free_port(self.host)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=port, verbose=False)
        self._moto.start()
        self.moto_url = f"http://{self.host}:{port}"
        # moto keeps its state per process, shared by every moto server in it: names unique to this
        # stack keep one stack's events out of another's queue (tests start many stacks in a process).
        self.suffix = uuid.uuid4().hex[:8]
        self.event_bus = f"hspc-{self.suffix}"
        self._create_queues_and_rule()

        sink = (
            EventBridgeSink(self.aws_client("events"), bus_name=self.event_bus)
            if self.deliver_events
            else None
        )
        reads, writes = self.pc_limits
        self.partner_central, pc_server = start_partner_central_emulator(
            host=self.host,
            reads_per_second=reads,
            writes_per_second=writes,
            reads_per_day=self.pc_daily[0],
            writes_per_day=self.pc_daily[1],
            quota_window_seconds=self.pc_daily[2],
            event_sink=sink,
            task_delay_seconds=self.task_delay_seconds,
            seed=self.seed,
        )
        self._servers.append(pc_server)
        self.partner_central.seed(
            {"solutions": [dict(s, Catalog=c) for c in ("AWS", "Sandbox") for s in self.solutions]}
        )

        from .hubspot import start_hubspot_emulator  # lazily: heavy, and optional for PC-only users

        self.hubspot, hs_server = start_hubspot_emulator(
            access_tokens=[HUBSPOT_TOKEN],
            webhook_url=self.webhook_url,
            webhook_client_secret=HUBSPOT_CLIENT_SECRET,
            oauth_clients={HUBSPOT_CLIENT_ID: HUBSPOT_CLIENT_SECRET},  # one secret, as a real app has
        )
        self._servers.append(hs_server)
        if self.deals > 0:
            from .seed import anchor_now, generate_seed

            # Dates relative to now, so the seeded deals fall inside the product's recent partitions.
            self.hubspot.load_seed(generate_seed(self.deals, self.seed, now_ms=anchor_now()))

        self.env = {
            "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
            "HUBSPOT_CLIENT_SECRET": HUBSPOT_CLIENT_SECRET,
            "HUBSPOT_BASE_URL": hs_server.url,
            "PARTNER_CENTRAL_CATALOG": self.catalog,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING": pc_server.url,
            "HSPC_EVENTS_QUEUE_URL": self.queue_url,
            "HSPC_EVENTS_DLQ_URL": self.dlq_url,
            # Stage maps for the seeded portal's custom pipelines.
            "HSPC_MAPPING_CONFIG": str(DEMO_MAPPING_CONFIG),
            # The client paces to the real quotas (10 reads/s, 1 write/s) unless told otherwise; the
            # emulator's own quotas (unlimited by default) are what apply locally.
            "HSPC_PC_READS_PER_SECOND": str(reads or 1000),
            "HSPC_PC_WRITES_PER_SECOND": str(writes or 1000),
            # The write budget keeps the emulator's daily quota (none by default: then none here).
            "HSPC_PC_WRITES_PER_DAY": str(self.pc_daily[1] or 1_000_000_000),
            "HSPC_PC_READS_PER_DAY": str(self.pc_daily[0] or 1_000_000_000),
            "HSPC_PC_QUOTA_WINDOW_SECONDS": str(self.pc_daily[2]),
        }

    def _create_queues_and_rule(self) -> None:
        sqs, events = self.aws_client("sqs"), self.aws_client("events")
        events.create_event_bus(Name=self.event_bus)
        self.dlq_url = sqs.create_queue(QueueName=f"{DLQ_NAME}-{self.suffix}")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        self.queue_url = sqs.create_queue(
            QueueName=f"{QUEUE_NAME}-{self.suffix}",
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "30"},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        rule_arn = events.put_rule(
            Name=RULE_NAME,
            EventBusName=self.event_bus,
            State="ENABLED",
            EventPattern=json.dumps({"source": ["aws.partnercentral-selling"]}),
        )["RuleArn"]
        # Production's queue policy: only this rule may send.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowEventBridgeRule",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"Policy": json.dumps(policy)})
        events.put_targets(
            Rule=RULE_NAME, EventBusName=self.event_bus, Targets=[{"Id": "events-queue", "Arn": queue_arn}]
        )

    def close(self) -> None:
        if self.partner_central is not None:
            self.partner_central.flush_events(5)
            self.partner_central.close()
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
