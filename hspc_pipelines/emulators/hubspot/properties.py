"""Property definitions per object type and validation of values on write, as HubSpot checks them.

Each portal starts with HubSpot's default properties; custom ones are added through the properties
API. Writes are checked against the definition's type: the whole write fails with one
VALIDATION_ERROR naming every bad property, like HubSpot's "Property values were not valid".
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

from .errors import ApiError
from .objecttypes import TYPE_IDS
from .timeutil import date_only, iso_ms, now_ms, parse_ms

TYPES = frozenset({"string", "number", "date", "datetime", "enumeration", "bool", "phone_number"})
FIELD_TYPES = frozenset(
    {
        "text",
        "textarea",
        "number",
        "date",
        "select",
        "radio",
        "checkbox",
        "booleancheckbox",
        "phonenumber",
        "html",
        "file",
        "calculation_equation",
    }
)
READ_ONLY = frozenset({"hs_object_id", "hs_lastmodifieddate", "lastmodifieddate", "hs_createdate"})
# Enumerations whose options live elsewhere in HubSpot (pipelines, owners): any value is accepted.
OPEN_ENUMERATIONS = frozenset({"dealstage", "pipeline", "hubspot_owner_id"})
CURRENCIES = (
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "AUD",
    "CAD",
    "CHF",
    "CNY",
    "INR",
    "BRL",
    "MXN",
    "SGD",
    "NZD",
    "SEK",
    "NOK",
    "DKK",
    "ZAR",
    "HKD",
    "KRW",
)
GROUPS = {
    "deals": "dealinformation",
    "companies": "companyinformation",
    "contacts": "contactinformation",
    "notes": "engagement",
    "tasks": "task",
}


@cache
def company_industries() -> tuple[tuple[str, str], ...]:
    """(internal value, label) of HubSpot's 147 company industries."""
    text = (resources.files("hspc_pipelines.mapping") / "data" / "hubspot_company_industries.tsv").read_text()
    rows = [line.split("\t") for line in text.splitlines()[1:] if line.strip()]
    return tuple((value, label) for value, label in rows)


def _options(pairs: Any) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(pairs)
    ]


def _stored_options(options: Any) -> list[dict[str, Any]]:
    """Options as HubSpot answers them: `hidden` and `displayOrder` always present (its `Option` model)."""
    out = []
    for i, option in enumerate(options or []):
        stored = dict(option) if isinstance(option, dict) else {"label": str(option), "value": str(option)}
        stored.setdefault("displayOrder", i)
        stored["hidden"] = bool(stored.get("hidden", False))
        stored.setdefault("description", "")
        out.append(stored)
    return out


def _prop(
    name: str,
    label: str,
    type_: str = "string",
    field_type: str = "text",
    options: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "options": options or [],
        **extra,
    }


def _common(created: str = "createdate") -> list[dict[str, Any]]:
    return [
        _prop(created, "Create Date", "datetime", "date"),
        _prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", calculated=True),
        _prop("hs_object_id", "Record ID", "number", "number", calculated=True),
        _prop("hubspot_owner_id", "Owner", "enumeration", "select"),
    ]


def _enum(name: str, label: str, values: tuple[str, ...]) -> dict[str, Any]:
    return _prop(
        name, label, "enumeration", "select", _options((v, v.replace("_", " ").title()) for v in values)
    )


def default_definitions() -> dict[str, list[dict[str, Any]]]:
    """HubSpot's default properties the product (and its tests) touch, per object type."""
    return {
        "deals": _common()
        + [
            _prop("dealname", "Deal Name"),
            _prop("amount", "Amount", "number", "number"),
            _prop("closedate", "Close Date", "datetime", "date"),
            _prop("dealstage", "Deal Stage", "enumeration", "radio"),
            _prop("pipeline", "Pipeline", "enumeration", "select"),
            _prop("description", "Deal Description", field_type="textarea"),
            _prop(
                "deal_currency_code",
                "Currency",
                "enumeration",
                "select",
                _options((c, c) for c in CURRENCIES),
            ),
            _enum("dealtype", "Deal Type", ("newbusiness", "existingbusiness")),
            _enum("hs_priority", "Priority", ("low", "medium", "high")),
            _prop("closed_lost_reason", "Closed Lost Reason", field_type="textarea"),
            _prop("hs_deal_stage_probability", "Deal probability", "number", "number"),
        ],
        "companies": _common()
        + [
            _prop("name", "Company name"),
            _prop("domain", "Company Domain Name"),
            _prop("website", "Website URL"),
            _prop("industry", "Industry", "enumeration", "select", _options(company_industries())),
            _prop("country", "Country/Region"),
            _prop("city", "City"),
            _prop("state", "State/Region"),
            _prop("zip", "Postal Code"),
            _prop("address", "Street Address"),
            _prop("phone", "Phone Number", "string", "phonenumber"),
            _prop("description", "Description", field_type="textarea"),
            _prop("numberofemployees", "Number of Employees", "number", "number"),
            _prop("annualrevenue", "Annual Revenue", "number", "number"),
        ],
        "contacts": _common()
        + [
            _prop("lastmodifieddate", "Last Modified Date", "datetime", "date", calculated=True),
            _prop("firstname", "First Name"),
            _prop("lastname", "Last Name"),
            _prop("email", "Email"),
            _prop("phone", "Phone Number", "string", "phonenumber"),
            _prop("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
            _prop("jobtitle", "Job Title"),
            _prop("company", "Company Name"),
            _prop("country", "Country/Region"),
        ],
        "notes": _common("hs_createdate")
        + [
            _prop("hs_note_body", "Note body", field_type="html"),
            _prop("hs_timestamp", "Activity date", "datetime", "date"),
        ],
        "tasks": _common("hs_createdate")
        + [
            _prop("hs_task_subject", "Task Title"),
            _prop("hs_task_body", "Notes", field_type="html"),
            _enum(
                "hs_task_status",
                "Task Status",
                ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
            ),
            _enum("hs_task_priority", "Priority", ("NONE", "LOW", "MEDIUM", "HIGH")),
            _enum("hs_task_type", "Task Type", ("TODO", "CALL", "EMAIL")),
            _prop("hs_timestamp", "Due date", "datetime", "date"),
        ],
    }


class PropertyError(Exception):
    def __init__(self, name: str, code: str, message: str) -> None:
        super().__init__(message)
        self.name, self.code, self.message = name, code, message


class PropertyRegistry:
    """Definitions by object type and name; `normalize` checks and converts values for storage."""

    def __init__(self) -> None:
        self._defs: dict[str, dict[str, dict[str, Any]]] = {}
        self._allowed: dict[tuple[str, str], frozenset[str]] = {}
        stamp = iso_ms(now_ms())
        for object_type, definitions in default_definitions().items():
            self._defs[object_type] = {}
            for definition in definitions:
                self._add(object_type, definition, hubspot_defined=True, stamp=stamp)

    def _add(
        self, object_type: str, definition: dict[str, Any], *, hubspot_defined: bool, stamp: str
    ) -> dict[str, Any]:
        name = definition["name"]
        full = {
            "name": name,
            "label": definition.get("label", name),
            "type": definition["type"],
            "fieldType": definition["fieldType"],
            "groupName": definition.get("groupName", GROUPS[object_type]),
            "description": definition.get("description", ""),
            "options": _stored_options(definition.get("options")),
            "displayOrder": definition.get("displayOrder", -1),
            "calculated": definition.get("calculated", False),
            "externalOptions": False,
            "hasUniqueValue": definition.get("hasUniqueValue", False),
            "hidden": definition.get("hidden", False),
            "hubspotDefined": hubspot_defined,
            "formField": definition.get("formField", not hubspot_defined),
            "modificationMetadata": {
                "archivable": not hubspot_defined,
                "readOnlyDefinition": hubspot_defined,
                "readOnlyValue": name in READ_ONLY,
            },
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }
        self._defs[object_type][name] = full
        if full["type"] == "enumeration" and name not in OPEN_ENUMERATIONS:
            self._allowed[(object_type, name)] = frozenset(str(o.get("value")) for o in full["options"])
        return full

    def list(self, object_type: str) -> list[dict[str, Any]]:
        return list(self._defs[object_type].values())

    def get(self, object_type: str, name: str) -> dict[str, Any] | None:
        return self._defs[object_type].get(name)

    def names(self, object_type: str) -> dict[str, dict[str, Any]]:
        return self._defs[object_type]

    def create(self, object_type: str, definition: Any) -> dict[str, Any]:
        if not isinstance(definition, dict):
            raise ApiError(400, "Invalid input JSON: expected a property definition object")
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not definition.get(k)]
        if missing:
            raise ApiError(
                400,
                f"Property definition is missing required fields: {', '.join(missing)}",
                errors=[{"message": f"{k} is required", "code": "REQUIRED_FIELD", "in": k} for k in missing],
            )
        name = str(definition["name"])
        if name in self._defs[object_type]:
            raise ApiError(
                409,
                f"Property named '{name}' already exists.",
                "OBJECT_ALREADY_EXISTS",
                subCategory="PropertyValidationError.PROPERTY_EXISTS",
                context={"name": [name]},
            )
        if definition["type"] not in TYPES or definition["fieldType"] not in FIELD_TYPES:
            raise ApiError(
                400,
                f"Invalid property type {definition['type']!r}/{definition['fieldType']!r}; "
                f"type must be one of {sorted(TYPES)}",
                subCategory="PropertyValidationError.INVALID_TYPE",
            )
        if definition["type"] == "enumeration" and not definition.get("options"):
            raise ApiError(
                400,
                f"Enumeration property '{name}' needs options",
                subCategory="PropertyValidationError.OPTIONS_REQUIRED",
            )
        return self._add(object_type, definition, hubspot_defined=False, stamp=iso_ms(now_ms()))

    def update(self, object_type: str, name: str, changes: Any, values_in_use: int) -> dict[str, Any]:
        """PATCH a definition: given fields overwrite. Like HubSpot, a property's `type` cannot change
        while records hold values for it, and HubSpot's own definitions are read-only."""
        current = self._defs[object_type].get(name)
        if current is None:
            raise ApiError(
                404, f"Unable to find property with name {name}", "OBJECT_NOT_FOUND", context={"name": [name]}
            )
        if not isinstance(changes, dict):
            raise ApiError(400, "Invalid input JSON: expected a property update object")
        if current["hubspotDefined"] and current["modificationMetadata"]["readOnlyDefinition"]:
            raise ApiError(
                400,
                f"Property {name} is a HubSpot-defined property; its definition is read-only",
                subCategory="PropertyValidationError.READ_ONLY_DEFINITION",
            )
        # HubSpot's PropertyUpdate has no hasUniqueValue: uniqueness is chosen when a property is created.
        kept = ("name", "createdAt", "hasUniqueValue")
        wanted = {**current, **{k: v for k, v in changes.items() if k not in kept}}
        if wanted["type"] not in TYPES or wanted["fieldType"] not in FIELD_TYPES:
            raise ApiError(
                400,
                f"Invalid property type {wanted['type']!r}/{wanted['fieldType']!r}",
                subCategory="PropertyValidationError.INVALID_TYPE",
            )
        if wanted["type"] != current["type"] and values_in_use:
            raise ApiError(
                400,
                f"Cannot change the type of property {name} from {current['type']} to {wanted['type']}: "
                f"{values_in_use} records have a value for it",
                subCategory="PropertyValidationError.CANNOT_CHANGE_TYPE_WITH_VALUES",
                context={"name": [name]},
            )
        if wanted["type"] == "enumeration" and not wanted.get("options"):
            raise ApiError(
                400,
                f"Enumeration property '{name}' needs options",
                subCategory="PropertyValidationError.OPTIONS_REQUIRED",
            )
        created = current["createdAt"]
        full = self._add(object_type, wanted, hubspot_defined=False, stamp=iso_ms(now_ms()))
        full["createdAt"] = created
        if full["type"] != "enumeration":
            self._allowed.pop((object_type, name), None)
        return full

    def normalize(
        self, object_type: str, properties: Any, *, allow_read_only: bool = False
    ) -> dict[str, str | None]:
        """Stored form of `properties` (None clears); raises HubSpot's VALIDATION_ERROR listing all bad ones."""
        if properties is None:
            return {}
        if not isinstance(properties, dict):
            raise ApiError(400, "Invalid input JSON: properties must be an object")
        defs = self._defs[object_type]
        out: dict[str, str | None] = {}
        problems: list[PropertyError] = []
        for name, value in properties.items():
            definition = defs.get(name)
            try:
                if definition is None:
                    raise PropertyError(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                if name in READ_ONLY and not allow_read_only:
                    raise PropertyError(
                        name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'
                    )
                out[name] = self._value(object_type, definition, value)
            except PropertyError as exc:
                problems.append(exc)
        if problems:
            raise validation_error(problems)
        return out

    def _value(self, object_type: str, definition: dict[str, Any], value: Any) -> str | None:
        name, kind = definition["name"], definition["type"]
        if value is None or (isinstance(value, str) and value == ""):
            return None
        if isinstance(value, dict | list):
            raise PropertyError(name, "INVALID_VALUE", f"{json.dumps(value)} is not a valid value for {name}")
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise PropertyError(name, "INVALID_FLOAT", f"{text} was not a valid number.")
            return text.strip()
        if kind in ("datetime", "date"):
            ms = parse_ms(text)
            if ms is None:
                raise PropertyError(
                    name,
                    "INVALID_DATE",
                    f"{text} is not a valid datetime: use epoch milliseconds or ISO 8601",
                )
            return date_only(ms) if kind == "date" else iso_ms(ms)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise PropertyError(
                    name, "INVALID_BOOLEAN", f"{text} is not a valid boolean: use true or false"
                )
            return lowered
        if kind == "enumeration":
            allowed = self._allowed.get((object_type, name))
            if allowed is not None:
                chosen = text.split(";") if definition["fieldType"] == "checkbox" else [text]
                bad = [c for c in chosen if c not in allowed]
                if bad:
                    shown = ", ".join(sorted(allowed)[:20]) + (", ..." if len(allowed) > 20 else "")
                    raise PropertyError(
                        name, "INVALID_OPTION", f"{bad[0]} was not one of the allowed options: [{shown}]"
                    )
        return text


def validation_error(problems: list[PropertyError]) -> ApiError:
    details = [
        {
            "isValid": False,
            "message": p.message,
            "error": p.code,
            "name": p.name,
            "localizedErrorMessage": p.message,
        }
        for p in problems
    ]
    return ApiError(
        400,
        f"Property values were not valid: {json.dumps(details)}",
        "VALIDATION_ERROR",
        errors=[
            {"message": p.message, "code": p.code, "context": {"propertyName": [p.name]}} for p in problems
        ],
    )


def object_type_id(object_type: str) -> str:
    return TYPE_IDS[object_type]
