"""The emulator's state and the write operations that keep records, associations and events consistent.

Every write goes through here so a change to a deal always produces its webhook events, whichever
endpoint (single, batch, association) made it. Callers hold the emulator's lock.
"""

from __future__ import annotations

from typing import Any

from .associations import TARGET_BY_TYPE, AssociationStore, resolve_type_id
from .errors import ApiError, bad_request
from .journal import Journal
from .oauth_apps import DEFAULT_CLIENTS, DEFAULT_TOKEN_LIFETIME_SECONDS, ClientCredentialsApps
from .objecttypes import SINGULAR, canonical
from .pipelines import PipelineStore
from .properties import PropertyRegistry
from .search_index import SearchIndex
from .store import ObjectStore, Record
from .timeutil import iso_ms, now_ms
from .validation_rules import Rule
from .webhooks import WebhookDispatcher


class State:
    def __init__(self, dispatcher: WebhookDispatcher) -> None:
        self.dispatcher = dispatcher
        self.registry = PropertyRegistry()
        self.store = ObjectStore(self.registry)
        self.assoc = AssociationStore()
        self.pipelines = PipelineStore()
        self.outbox: list[dict[str, Any]] = []  # webhook events of the current call, sent after it
        # (object type, id) -> property -> versions, newest first (GET ...?propertiesWithHistory=)
        self.history: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        self.index = SearchIndex()
        self.journal = Journal()  # the webhooks journal: the outbox's events, kept for reading back
        self.portal_id, self.app_id = 62515, 1160452
        self.token_scopes: tuple[str, ...] = ()  # set by the app (routes_oauth.DEFAULT_SCOPES)
        # Client-credentials apps and their tokens; set by the app, kept across reset() (a reset
        # forgets the portal's data, not who may sign in).
        self.apps = ClientCredentialsApps(DEFAULT_CLIENTS, (), DEFAULT_TOKEN_LIFETIME_SECONDS)
        # The portal's required-property rules (validation_rules.py), enforced at 2026-09 and later.
        self.validation_rules: list[Rule] = []

    def reset(self) -> None:
        self.validation_rules = []
        self.history = {}
        self.registry = PropertyRegistry()
        self.store = ObjectStore(self.registry)
        self.assoc.clear()
        self.pipelines = PipelineStore()
        self.outbox.clear()
        self.index.clear()
        self.journal.clear()

    def _datetime_props(self) -> frozenset[str]:
        return frozenset(
            n for n, d in self.registry.names("deals").items() if d["type"] in ("datetime", "date")
        )

    # objects -------------------------------------------------------------------------------------
    def require(self, object_type: str, object_id: str, archived: bool = False) -> Record:
        record = self.store.get(object_type, object_id, archived)
        if record is None:
            raise ApiError(
                404,
                "Object not found.  objectId are usually numeric.",
                "OBJECT_NOT_FOUND",
                context={"id": [object_id]},
            )
        return record

    def check_associations(self, object_type: str, associations: Any) -> list[tuple[str, str, list[int]]]:
        """Inline `associations` of a create, validated before anything is written.

        The association type id names the target object type (deal→company 5 or 341, note→deal 214…).
        """
        out = []
        for item in associations or []:
            if not isinstance(item, dict) or not isinstance(item.get("to"), dict) or not item.get("types"):
                raise bad_request("Each association needs 'to': {'id'} and 'types'")
            to_id = str(item["to"].get("id"))
            targets = set()
            tids = []
            for t in item["types"]:
                tid = resolve_type_id(t.get("associationTypeId"))
                to_type = TARGET_BY_TYPE.get((object_type, tid))
                if to_type is None:
                    raise bad_request(
                        f"{tid} is not a valid association type from {object_type}",
                        subCategory="crm.associations.INVALID_ASSOCIATION_TYPE",
                    )
                targets.add(to_type)
                tids.append(tid)
            if len(targets) != 1:
                raise bad_request(f"Association types {tids} point at different object types")
            to_type = targets.pop()
            if self.store.get(to_type, to_id) is None:
                raise bad_request(
                    f"{SINGULAR[to_type]} {to_id} does not exist and cannot be associated",
                    subCategory="crm.associations.INVALID_OBJECT_IDS",
                )
            out.append((to_type, to_id, tids))
        return out

    def check_unique(
        self,
        object_type: str,
        props: dict[str, str | None],
        record_id: str | None = None,
        taken: dict[tuple[str, str], str] | None = None,
    ) -> None:
        """409 when a value of a `hasUniqueValue` property is already another record's, as HubSpot
        answers a second contact with the same email ("Contact already exists. Existing ID: …",
        category CONFLICT). `taken` holds the values earlier inputs of the same batch claim."""
        for name, value in props.items():
            definition = self.registry.get(object_type, name)
            if value in (None, "") or not definition or not definition.get("hasUniqueValue"):
                continue
            holder = (taken or {}).get((name, str(value)))
            if holder is None:
                found = self.store.find_by(object_type, name, [str(value)]).get(str(value))
                holder = found.id if found is not None else None
            if holder is not None and holder != record_id:
                raise ApiError(
                    409,
                    f"{SINGULAR[object_type].capitalize()} already exists. Existing ID: {holder}",
                    "CONFLICT",
                    context={"propertyName": [name], "value": [str(value)]},
                )
            if taken is not None:
                taken[(name, str(value))] = record_id or "(this batch)"

    def create(
        self,
        object_type: str,
        props: dict[str, str | None],
        source: str,
        associations: list[tuple[str, str, list[int]]] | None = None,
        user_id: str | None = None,
    ) -> Record:
        self.check_unique(object_type, props)
        now = now_ms()
        record = self.store.insert(object_type, props, now)
        self._versions(object_type, record.id, props, source, user_id, now)
        self.index.before_write(object_type, record.id, None)
        self.index.after_write(object_type, record.id, record)
        if object_type == "deals":
            self.outbox += self.dispatcher.creation(record.id, source, now)
            initial: dict[str, str | None] = {
                k: v for k, v in props.items() if v is not None
            }  # as sent, not server-kept
            self.outbox += self.dispatcher.property_changes(
                record.id, initial, source, now, self._datetime_props()
            )
        for to_type, to_id, tids in associations or []:
            self.associate(object_type, record.id, to_type, to_id, tids, source)
        return record

    def update(
        self,
        object_type: str,
        record: Record,
        props: dict[str, str | None],
        source: str,
        user_id: str | None = None,
    ) -> dict[str, str | None]:
        self.check_unique(object_type, props, record.id)
        now = now_ms()
        self.index.before_write(object_type, record.id, record)
        changed = self.store.update(object_type, record, props, now)
        self._versions(object_type, record.id, changed, source, user_id, now)
        self.index.after_write(object_type, record.id, record)
        if changed and object_type == "deals":
            self.outbox += self.dispatcher.property_changes(
                record.id, changed, source, now, self._datetime_props()
            )
        return changed

    def _versions(
        self,
        object_type: str,
        object_id: str,
        values: dict[str, str | None],
        source: str,
        user_id: str | None,
        now: int,
    ) -> None:
        """Each set value as HubSpot's property history shows it: who (sourceType, sourceId,
        updatedByUserId for a person) and when."""
        by_name = self.history.setdefault((object_type, object_id), {})
        for name, value in values.items():
            version: dict[str, Any] = {"value": value or "", "timestamp": iso_ms(now), "sourceType": source}
            if user_id:
                version |= {"sourceId": f"userId:{user_id}", "updatedByUserId": int(user_id)}
            by_name.setdefault(name, []).insert(0, version)

    def archive(self, object_type: str, object_id: str, source: str) -> bool:
        now = now_ms()
        self.index.before_write(object_type, object_id, self.store.get(object_type, object_id))
        record = self.store.archive(object_type, object_id, now)
        self.index.after_write(object_type, object_id, None)
        if record is None:
            return False
        self.assoc.drop_object(object_type, object_id)
        if object_type == "deals":
            self.outbox += self.dispatcher.deletion(object_id, source, now)
        return True

    # associations --------------------------------------------------------------------------------
    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, tids: list[int] | set[int], source: str
    ) -> None:
        self.require(from_type, from_id)
        self.require(to_type, to_id)
        if self.assoc.add(from_type, from_id, to_type, to_id, set(tids)):
            self._association_event(from_type, from_id, to_type, to_id, min(tids), False, source)

    def unassociate(self, from_type: str, from_id: str, to_type: str, to_id: str, source: str) -> None:
        if self.assoc.remove(from_type, from_id, to_type, to_id):
            self._association_event(from_type, from_id, to_type, to_id, 0, True, source)

    def _association_event(
        self, from_type: str, from_id: str, to_type: str, to_id: str, tid: int, removed: bool, source: str
    ) -> None:
        if from_type == "deals":
            deal, other, other_id = from_id, to_type, to_id
        elif to_type == "deals":
            deal, other, other_id = to_id, from_type, from_id
        else:
            return
        self.outbox += self.dispatcher.association_change(
            deal, other, other_id, tid, removed, source, now_ms()
        )

    def take_outbox(self) -> list[dict[str, Any]]:
        events, self.outbox = self.outbox, []
        return events


def object_type_param(name: str) -> str:
    return canonical(name)
