"""The checks of `hspc doctor`, each against the real service, each ending in one `CheckResult`.

A check never raises: whatever goes wrong becomes a failed result that says what to do. Messages never
carry a secret (the clients scrub their errors; nothing here prints a token or a URL's password).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.doctor.scopes import APP_SCOPES, JOURNAL_SCOPES, REQUIRED_SCOPES, missing_scopes
from hspc_pipelines.settings import Settings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"ok    {self.name}: {self.detail}"
        return f"FAIL  {self.name}: {self.detail}" + (f" -> {self.fix}" if self.fix else "")


class CheckFailed(Exception):
    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail, self.fix = detail, fix


Check = Callable[[Settings], str]


def _ssm_read(parameter: str, region: str) -> str:
    import boto3

    ssm = boto3.client("ssm", region_name=region)
    return str(ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])


def _hubspot(settings: Settings) -> Any:
    from hspc_pipelines.hubspot.auth import credentials_from_settings
    from hspc_pipelines.hubspot.client import HubSpotClient
    from hspc_pipelines.settings import SettingsError

    try:
        credentials = credentials_from_settings(settings, ssm_reader=_ssm_read)
    except SettingsError as exc:
        raise CheckFailed(str(exc), "set the variables it names (docs/hubspot-app.md)") from None
    return HubSpotClient(
        base_url=settings.hubspot_base_url, credentials=credentials, api_version=settings.hubspot_api_version
    )


def check_hubspot_token(settings: Settings) -> str:
    """The chosen credential works and carries the scopes hspc needs, as far as HubSpot tells."""
    from hspc_pipelines.hubspot.auth import AuthMode, TokenRequestError
    from hspc_pipelines.hubspot.errors import HubSpotError

    client = _hubspot(settings)
    mode = client.credentials.mode
    if mode is AuthMode.SERVICE_KEY:
        return _check_service_key(client)
    try:
        info = client.token_info()
    except TokenRequestError as exc:
        raise CheckFailed(
            f"no client-credentials token: {exc}",
            "copy the client id and secret from the app's Auth tab (Development > Projects > the app) "
            "into HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET; docs/hubspot-app.md",
        ) from None
    except HubSpotError as exc:
        if exc.status in (401, 403):
            raise CheckFailed(
                f"HubSpot refused the token ({exc.status})",
                "create a new access token for the private app and set HUBSPOT_ACCESS_TOKEN "
                "(a new portal cannot create private apps: docs/hubspot-app.md)",
            ) from None
        raise
    if mode is AuthMode.CLIENT_CREDENTIALS:
        return _check_client_credentials(client, info)
    missing = missing_scopes(info.get("scopes") or [])
    if missing:
        raise CheckFailed(
            f"the token lacks scopes {', '.join(missing)}",
            "in HubSpot, Settings > Integrations > Private apps > the app > Scopes, add: "
            + "; ".join(f"{s} ({REQUIRED_SCOPES[s]})" for s in missing),
        )
    return f"portal {info.get('hubId')}, app {info.get('appId')}, all {len(REQUIRED_SCOPES)} scopes granted"


def _check_client_credentials(client: Any, info: dict[str, Any]) -> str:
    missing = missing_scopes(info.get("scopes") or [], APP_SCOPES)
    if missing:
        raise CheckFailed(
            f"the client-credentials token lacks scopes {', '.join(missing)}",
            "add them to requiredScopes in deploy/hubspot-app/src/app/app-hsmeta.json and run "
            "`hs project upload` (docs/hubspot-app.md)",
        )
    _probe(client, "the client-credentials token")
    return (
        f"client-credentials token for HUBSPOT_CLIENT_ID={client.credentials.client_id} "
        f"(lives {info.get('expiresIn'):.0f} s, renewed before it expires), all {len(APP_SCOPES)} app "
        "scopes granted, CRM answers"
    )


def _check_service_key(client: Any) -> str:
    _probe(client, "the service key")
    return (
        "the service key is accepted (deal pipelines read); its scopes cannot be checked (HubSpot "
        "documents no introspection for service keys: give it "
        + ", ".join(REQUIRED_SCOPES)
        + "); service keys receive no webhooks: HubSpot's events need a developer-platform app "
        "(docs/hubspot-app.md), the schedules reconcile either way"
    )


def _probe(client: Any, what: str) -> None:
    """One read every credential must be allowed (crm.schemas.deals.read): proves HubSpot's CRM takes it."""
    from hspc_pipelines.hubspot.errors import HubSpotError

    try:
        client.list_pipelines("deals")
    except HubSpotError as exc:
        raise CheckFailed(
            f"HubSpot refused {what} for a CRM read (GET deal pipelines: HTTP {exc.status} {exc.category})",
            "give the credential the scopes in the README (HubSpot scopes) and check it belongs to this portal",
        ) from None


def check_journal_subscription(settings: Settings) -> str:
    """With the journal as a source: the token has the journal's scopes and the account's deal
    subscription covers the actions and properties hspc reacts to."""
    from hspc_pipelines.hubspot.auth import AuthMode
    from hspc_pipelines.hubspot.errors import HubSpotError
    from hspc_pipelines.hubspot.journal_subscription import coverage

    source = settings.hubspot_events_source
    if source == "queue":
        return "not read (HSPC_HUBSPOT_EVENTS_SOURCE=queue: HubSpot's events come through the ingress)"
    client = _hubspot(settings)
    if client.credentials.mode is not AuthMode.CLIENT_CREDENTIALS:  # the settings refuse this already
        raise CheckFailed(
            f"HSPC_HUBSPOT_EVENTS_SOURCE={source} with {client.credentials.mode.value}",
            "set HSPC_HUBSPOT_AUTH=client_credentials (docs/hubspot-app.md)",
        )
    missing = missing_scopes(client.token_info().get("scopes") or [], JOURNAL_SCOPES)
    if missing:
        raise CheckFailed(
            f"the client-credentials token lacks {', '.join(missing)}",
            "add them to requiredScopes in deploy/hubspot-app/src/app/app-hsmeta.json and run "
            "`hs project upload` (docs/hubspot-app.md)",
        )
    try:
        subscriptions = client.journal_subscriptions()
    except HubSpotError as exc:
        raise CheckFailed(
            f"HubSpot refused to list the journal's subscriptions (HTTP {exc.status} {exc.category})",
            "check the app is installed in this account with the journal's scopes (docs/hubspot-app.md)",
        ) from None
    found = coverage(subscriptions, settings.journal_portal_id)
    if not found.ok:
        raise CheckFailed(
            "; ".join(found.problems()),
            "run `hspc bootstrap --journal` (docs/webhooks-journal.md); until then the journal records "
            "nothing hspc needs and only the scheduled reconciles see deal changes",
        )
    sub = found.subscription or {}
    properties = len(sub.get("properties") or []) or "every"
    return (
        f"deal subscription {sub.get('id')} in portal {sub.get('portalId')}: "
        f"{len(sub.get('actions') or [])} actions, {properties} properties, journal scopes granted"
    )


def check_properties(settings: Settings) -> str:
    from hspc_pipelines.hubspot.bootstrap import EXPECTED, portal_diffs

    diffs = portal_diffs(_hubspot(settings))
    if diffs:
        missing = [d.key for d in diffs if d.missing]
        differ = [f"{d.key} ({'; '.join(d.changes())})" for d in diffs if not d.missing]
        parts = ([f"missing: {', '.join(missing)}"] if missing else []) + (
            [f"different: {', '.join(differ)}"] if differ else []
        )
        fix = "run `hspc bootstrap --migrate`" if differ else "run `hspc bootstrap`"
        raise CheckFailed("; ".join(parts), fix)
    return f"{sum(len(v) for v in EXPECTED.values())} custom properties with the expected type, field type and options"


def check_pipelines(settings: Settings) -> str:
    from hspc_pipelines.mapping.config import load_mapping_config

    config = load_mapping_config(settings.mapping_config)
    pipelines = {str(p["id"]): p for p in _hubspot(settings).list_pipelines("deals")}
    problems = []
    named = {
        config.default_pipeline,
        *config.stage_maps,
        *config.reverse_stage_maps,
        *config.cosell_pipelines,
    }
    for pipeline in sorted(named):
        if pipeline not in pipelines:
            problems.append(f"pipeline {pipeline} does not exist")
            continue
        stages = {str(s["id"]) for s in pipelines[pipeline].get("stages", [])}
        wanted = set(config.stage_maps.get(pipeline, {})) | set(
            config.reverse_stage_maps.get(pipeline, {}).values()
        )
        problems += [f"stage {s} is not in pipeline {pipeline}" for s in sorted(wanted - stages)]
    if problems:
        raise CheckFailed(
            "; ".join(problems),
            "fix the stage maps in the mapping file (HSPC_MAPPING_CONFIG) to the pipeline and stage ids "
            "HubSpot shows (Settings > Objects > Deals > Pipelines)",
        )
    return f"{len(named)} pipelines and their mapped stages exist"


def check_partner_central(settings: Settings) -> str:
    from hspc_pipelines.partner_central.client import PartnerCentralClient
    from hspc_pipelines.partner_central.errors import PartnerCentralError

    try:
        client = PartnerCentralClient.from_env()
        client.call("ListOpportunities", MaxResults=1)
    except PartnerCentralError as exc:
        role = settings.partner_central_role_arn or "the ambient AWS credentials"
        raise CheckFailed(
            f"ListOpportunities on catalog {settings.partner_central_catalog} as {role} failed: {exc}",
            "check PARTNER_CENTRAL_ROLE_ARN and PARTNER_CENTRAL_EXTERNAL_ID (the role's trust policy) and "
            "that the role may call partnercentral:ListOpportunities on that catalog",
        ) from None
    except Exception as exc:  # assuming the role fails before any Partner Central call
        raise CheckFailed(
            f"cannot reach Partner Central: {type(exc).__name__}: {exc}",
            "check PARTNER_CENTRAL_ROLE_ARN, PARTNER_CENTRAL_EXTERNAL_ID and the AWS credentials",
        ) from None
    via = (
        f"role {settings.partner_central_role_arn}"
        if settings.partner_central_role_arn
        else "ambient credentials"
    )
    external = " with an ExternalId" if settings.partner_central_external_id else ""
    return f"catalog {settings.partner_central_catalog} answers ({via}{external})"


def check_events_queue(settings: Settings) -> str:
    import boto3

    if not settings.events_queue_url:
        raise CheckFailed(
            "HSPC_EVENTS_QUEUE_URL is not set: webhooks and Partner Central events are not received",
            "deploy the stack in deploy/ and set HSPC_EVENTS_QUEUE_URL to its queue",
        )
    sqs = boto3.client("sqs", region_name=settings.aws_region)
    try:
        attrs = sqs.get_queue_attributes(
            QueueUrl=settings.events_queue_url, AttributeNames=["QueueArn", "RedrivePolicy"]
        )["Attributes"]
    except Exception as exc:
        raise CheckFailed(
            f"the events queue cannot be read: {type(exc).__name__}",
            "check HSPC_EVENTS_QUEUE_URL and that the credentials may call sqs:GetQueueAttributes",
        ) from None
    redrive = json.loads(attrs.get("RedrivePolicy") or "{}")
    dlq_arn = redrive.get("deadLetterTargetArn")
    if not dlq_arn:
        raise CheckFailed(
            "the events queue has no dead-letter queue", "set a RedrivePolicy on the queue (deploy/ does)"
        )
    dlq_name = dlq_arn.rsplit(":", 1)[-1]
    try:
        sqs.get_queue_url(QueueName=dlq_name)
    except Exception:
        raise CheckFailed(
            f"the dead-letter queue {dlq_name} does not exist", "create it, or redeploy the stack in deploy/"
        ) from None
    events = boto3.client("events", region_name=settings.aws_region)
    rules = events.list_rule_names_by_target(
        TargetArn=attrs["QueueArn"], EventBusName=settings.event_bus_name
    )
    if not rules.get("RuleNames"):
        raise CheckFailed(
            f"no EventBridge rule on bus {settings.event_bus_name} targets the events queue",
            "add a rule for source aws.partnercentral-selling targeting the queue (deploy/ does), "
            "or set HSPC_EVENT_BUS_NAME to the bus that has it",
        )
    return (
        f"queue with dead-letter queue {dlq_name} (after {redrive.get('maxReceiveCount')} receives), "
        f"targeted by rule {rules['RuleNames'][0]}"
    )


def check_state_store(settings: Settings) -> str:
    from hspc_pipelines.state.store import schema_problems

    url = settings.state_url_or_default(str(settings.home()))
    try:
        problems = schema_problems(url)
    except Exception as exc:
        raise CheckFailed(
            f"the state database cannot be reached: {type(exc).__name__}",
            "check HSPC_STATE_URL (host, port, user, password) and that the database exists",
        ) from None
    if problems and all(p.endswith(" is missing") for p in problems) and len(problems) == _table_count():
        return "reachable and empty: the first run creates its tables"
    if problems:
        raise CheckFailed(
            "; ".join(problems),
            "this database was written by another version of hspc: run the version that matches it, "
            "or point HSPC_STATE_URL at an empty database (hspc rebuilds its cache from Partner Central)",
        )
    return "reachable, every table and column in place"


def _table_count() -> int:
    from hspc_pipelines.state.store import expected_tables

    return len(expected_tables())


def check_asset_store(settings: Settings) -> str:
    import dagster as dg

    from hspc_pipelines.defs.io import probe_store

    url = settings.asset_store_url_or_default(str(settings.home()))
    try:
        probe_store(url, settings.aws_region)  # what a run does before its first step
    except dg.Failure as exc:
        raise CheckFailed(
            exc.description or "the asset store cannot be written",
            "set HSPC_ASSET_STORE_URL to s3://bucket/prefix this process may write (the run role's "
            "prefix), or a writable local directory",
        ) from None
    return f"{url} writable (Delta Lake tables of the asset outputs)"


def check_dagster_instance(settings: Settings) -> str:
    import dagster as dg

    home = settings.home()
    try:
        instance = dg.DagsterInstance.from_config(str(home))
    except Exception as exc:
        raise CheckFailed(
            f"the Dagster instance in {home} does not load: {type(exc).__name__}: {str(exc)[:200]}",
            "check DAGSTER_HOME and its dagster.yaml (deploy/dagster.yaml is production's)",
        ) from None
    with instance:
        storage = type(instance.run_storage).__name__
    return f"loads from {home} (run storage {storage})"


REFUSAL_LOOKBACK_DAYS = 30


def _refused_rule_messages(settings: Settings, days: int) -> list[str] | None:
    """Messages of the `invalid` rows of the last `days` days (None: no run has written the history
    yet). Read-only: the doctor never creates the history's tables."""
    import datetime as dt

    import sqlalchemy as sa

    from hspc_pipelines.history.schema import HISTORY

    engine = sa.create_engine(settings.state_url_or_default(str(settings.home())))
    try:
        if not sa.inspect(engine).has_table(HISTORY.name):
            return None
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        query = sa.select(HISTORY.c.message).where(
            HISTORY.c.status == "invalid", HISTORY.c.recorded_at >= since
        )
        with engine.connect() as conn:
            return [str(m) for (m,) in conn.execute(query) if m]
    finally:
        engine.dispose()


def check_validation_rules(settings: Settings) -> str:
    """The portal's required-property rules (conditional, Create Record form). HubSpot has no API that
    reads them (docs/hubspot-api-versions.md), so the doctor lists the ones that refused hspc's writes,
    as the sync history recorded them (hubspot/portal_rules.py)."""
    from hspc_pipelines.hubspot.paths import parse_version
    from hspc_pipelines.hubspot.portal_rules import RULE_KINDS, rules_in

    version = parse_version(settings.hubspot_api_version)
    enforced = (
        f"HubSpot enforces them at {version.name}"
        if version.enforces_write_validation
        else f"HubSpot does not enforce them at {version.name}; it will from 2026-09"
    )
    try:
        messages = _refused_rule_messages(settings, REFUSAL_LOOKBACK_DAYS)
    except Exception as exc:
        raise CheckFailed(
            f"the sync history cannot be read: {type(exc).__name__} ({enforced})",
            "check HSPC_STATE_URL; the rules a portal refused writes with are learnt from the history",
        ) from None
    rules = rules_in(messages or [])
    if rules:
        listed = "; ".join(
            f"{prop} ({RULE_KINDS.get(code, code)}, {code}): {n} refused write(s)"
            for (code, prop), n in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        raise CheckFailed(
            f"the portal's required-property rules refused hspc's writes in the last "
            f"{REFUSAL_LOOKBACK_DAYS} days: {listed} ({enforced})",
            "set these properties on the deals (or map them from Partner Central), or ask the portal's "
            "admin to change the rules; `hspc history --failed` lists the rows (status invalid)",
        )
    seen = "no run has written yet" if messages is None else "none refused a write"
    return (
        f"{seen} in the last {REFUSAL_LOOKBACK_DAYS} days ({enforced}); HubSpot has no API that lists "
        "them, so hspc names each rule when it refuses a write"
    )


CHECKS: tuple[tuple[str, Check], ...] = (
    ("hubspot token and scopes", check_hubspot_token),
    ("hubspot validation rules", check_validation_rules),
    ("hubspot properties", check_properties),
    ("hubspot pipelines and stages", check_pipelines),
    ("hubspot webhooks journal", check_journal_subscription),
    ("partner central", check_partner_central),
    ("events queue, dead-letter queue and rule", check_events_queue),
    ("state store", check_state_store),
    ("asset store", check_asset_store),
    ("dagster instance", check_dagster_instance),
)


def run_checks(settings: Settings) -> Iterator[CheckResult]:
    for name, check in CHECKS:
        try:
            yield CheckResult(name, True, check(settings))
        except CheckFailed as exc:
            yield CheckResult(name, False, exc.detail, exc.fix)
        except Exception as exc:  # anything else is a failed check too, never a crash of the doctor
            yield CheckResult(name, False, f"{type(exc).__name__}: {str(exc)[:300]}", "see the message")
