"""The OpenAPI 3.0 description of the ingress, served at /openapi.json. Kept next to the routes it
describes; the tests check that every route is described and that the answers match the schemas."""

from __future__ import annotations

from typing import Any

from hspc_pipelines.hubspot.webhook_events import (
    ASSOCIATION_CHANGE,
    CREATION,
    DELETION,
    KNOWN_SUBSCRIPTION_TYPES,
    MERGE,
    PROPERTY_CHANGE,
    RESTORE,
)
from hspc_pipelines.ingress.solutions import STATUSES
from hspc_pipelines.ingress.submit import INVOLVEMENT_TYPES, VISIBILITIES


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


_WEBHOOK_PARAMS = [
    {
        "name": "X-HubSpot-Signature-v3",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "base64 HMAC-SHA256 of method + URI + body + timestamp, keyed with the app's client secret",
    },
    {
        "name": "X-HubSpot-Request-Timestamp",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "epoch milliseconds; refused when more than 5 minutes away from now",
    },
    {
        "name": "X-HubSpot-Signature",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "v1/v2 signature (hex sha256), only when the ingress is configured to accept them",
    },
    {"name": "X-HubSpot-Signature-Version", "in": "header", "required": False, "schema": {"type": "string"}},
]

_WEBHOOK_OP = {
    "parameters": _WEBHOOK_PARAMS,
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookBatch"}}},
    },
    "responses": {
        "200": _json("WebhookAccepted", "the batch is on the events queue"),
        "400": _error("the body is not a HubSpot webhook batch (the message names the JSON path)"),
        "401": _error("signature missing, wrong or stale"),
        "404": _error("webhooks are switched off on this ingress"),
        "413": _error("body larger than HSPC_INGRESS_MAX_BODY_BYTES"),
        "503": _error("the events queue is unavailable; HubSpot retries"),
    },
}


def _ref(name: str, nullable: bool = False) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", **({"nullable": True} if nullable else {})}


# A HubSpot webhook event as the parser (hspc_pipelines.hubspot.webhook_events) accepts it. Known deal
# subscription types are checked field by field; other types are kept and ignored, so only the fields
# the parser reads for every event are constrained there. Fields not listed are ignored.
_COUNT = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
_COMMON_EVENT_PROPERTIES: dict[str, Any] = {
    "eventId": _ref("HubSpotId"),
    "subscriptionType": {"type": "string", "minLength": 1},
    "portalId": _ref("HubSpotId", nullable=True),
    "attemptNumber": {**_COUNT, "nullable": True},
    "occurredAt": {**_COUNT, "nullable": True, "description": "epoch milliseconds"},
    "changeSource": {"type": "string", "nullable": True},
}
_PROPERTY_FIELDS: dict[str, Any] = {
    "propertyName": {"type": "string", "nullable": True},
    "propertyValue": {
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        "nullable": True,
        "description": "numbers and booleans are read as the CRM API's strings",
    },
}


def _event(
    types: list[str], required: list[str], properties: dict[str, Any], description: str
) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["eventId", "subscriptionType", *required],
        "properties": {
            **_COMMON_EVENT_PROPERTIES,
            "subscriptionType": {"type": "string", "enum": types},
            "occurredAt": {**_COUNT, "description": "epoch milliseconds"},
            **properties,
        },
    }


_KNOWN_TYPES = sorted(KNOWN_SUBSCRIPTION_TYPES)
_WEBHOOK_EVENT_SCHEMAS: dict[str, Any] = {
    "HubSpotId": {
        "description": "a HubSpot id: a JSON integer, or a string of digits",
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": 10**24 - 1},
            {"type": "string", "pattern": "^[0-9]{1,24}$"},
        ],
    },
    "DealEvent": _event(
        [CREATION, DELETION, RESTORE],
        ["objectId", "occurredAt"],
        {"objectId": _ref("HubSpotId"), **_PROPERTY_FIELDS},
        "a deal was created, deleted or restored",
    ),
    "DealPropertyChange": _event(
        [PROPERTY_CHANGE],
        ["objectId", "occurredAt", "propertyName"],
        {
            "objectId": _ref("HubSpotId"),
            **_PROPERTY_FIELDS,
            "propertyName": {"type": "string", "minLength": 1},
        },
        "a deal property changed",
    ),
    "DealMerge": _event(
        [MERGE],
        ["objectId", "occurredAt"],
        {
            "objectId": _ref("HubSpotId"),
            "primaryObjectId": _ref("HubSpotId", nullable=True),
            "mergedObjectIds": {"type": "array", "items": _ref("HubSpotId"), "nullable": True},
            **_PROPERTY_FIELDS,
        },
        "deals were merged into primaryObjectId (or objectId)",
    ),
    "DealAssociationChange": _event(
        [ASSOCIATION_CHANGE],
        ["fromObjectId", "toObjectId", "occurredAt"],
        {
            "fromObjectId": _ref("HubSpotId"),
            "toObjectId": _ref("HubSpotId"),
            "associationType": {"type": "string", "nullable": True},
            "associationRemoved": {"type": "boolean", "nullable": True},
        },
        "an association of a deal was added or removed",
    ),
    "OtherEvent": {
        "description": "a subscription type hspc does not use: queued with the batch, then ignored",
        "allOf": [
            {
                "type": "object",
                "required": ["eventId", "subscriptionType"],
                "properties": {
                    **_COMMON_EVENT_PROPERTIES,
                    "subscriptionType": {"type": "string", "minLength": 1, "not": {"enum": _KNOWN_TYPES}},
                    **_PROPERTY_FIELDS,
                },
            },
            {
                "description": "the object is objectId, or fromObjectId when objectId is absent or null",
                "anyOf": [
                    {
                        "type": "object",
                        "required": ["objectId"],
                        "properties": {"objectId": _ref("HubSpotId")},
                    },
                    {
                        "type": "object",
                        "properties": {
                            "objectId": {"nullable": True, "enum": [None]},
                            "fromObjectId": _ref("HubSpotId", nullable=True),
                        },
                    },
                ],
            },
        ],
    },
    "WebhookEvent": {
        "anyOf": [
            _ref("DealEvent"),
            _ref("DealPropertyChange"),
            _ref("DealMerge"),
            _ref("DealAssociationChange"),
            _ref("OtherEvent"),
        ]
    },
}

PAGE_TOKEN_FORMAT = "hspc-page-token"  # opaque: only tokens this API returned are valid

_PAGING = [
    {
        "name": "category",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    {
        "name": "status",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": list(STATUSES), "default": "Active"},
    },
    {
        "name": "nextToken",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "format": PAGE_TOKEN_FORMAT},
        "description": "the nextToken of the previous page, as returned; any other value is a 400",
    },
]


def _limit(default: int) -> dict[str, Any]:
    return {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": default},
    }


_SOLUTION = {
    "type": "object",
    "required": ["id", "name", "category", "status"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "nullable": True},
        "category": {"type": "string", "nullable": True},
        "status": {"type": "string", "nullable": True},
    },
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "hspc ingress",
        "version": "1.0.0",
        "description": "HubSpot webhooks and submit requests onto the hspc events queue; partner solution look-up.",
    },
    "paths": {
        "/healthz": {
            "get": {"operationId": "healthz", "responses": {"200": _json("Health", "the process is up")}}
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "responses": {
                    "200": {
                        "description": "this document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/webhook/hubspot": {"post": {"operationId": "hubspotWebhook", **_WEBHOOK_OP}},
        "/webhook/deal-update": {"post": {"operationId": "dealUpdateWebhook", **_WEBHOOK_OP}},
        "/submit-opportunity": {
            "post": {
                "operationId": "submitOpportunity",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/SubmitRequest"}}
                    },
                },
                "responses": {
                    "202": _json("SubmitQueued", "queued; a submission run follows"),
                    "400": _error(
                        "the body is invalid (the message names the field, the value and what is allowed)"
                    ),
                    "401": _error("bearer token missing or wrong (when HSPC_INGRESS_API_TOKEN is set)"),
                    "413": _error("body too large"),
                    "503": _error("the events queue is unavailable"),
                },
            }
        },
        "/solutions": {
            "get": {
                "operationId": "listSolutions",
                "parameters": [*_PAGING, _limit(100)],
                "responses": {
                    "200": _json("SolutionList", "one page of solutions, by name"),
                    "400": _error("a query parameter is invalid"),
                    "503": _error("Partner Central cannot be read right now"),
                },
            }
        },
        "/solutions/search": {
            "get": {
                "operationId": "searchSolutions",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "search words; blank is refused",
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 200,
                            "pattern": r"[^\s\x1c-\x1f\x85]",
                        },
                    },
                    *_PAGING,
                    _limit(50),
                ],
                "responses": {
                    "200": _json("SolutionSearch", "matching solutions, most relevant first"),
                    "400": _error("q missing or a query parameter invalid"),
                    "503": _error("Partner Central cannot be read right now"),
                },
            }
        },
        "/solutions/{solutionId}": {
            "get": {
                "operationId": "getSolution",
                "parameters": [
                    {
                        "name": "solutionId",
                        "in": "path",
                        "required": True,
                        "description": "a solution id such as S-0000001 (/solutions/search is the search)",
                        "schema": {"type": "string", "minLength": 1, "not": {"enum": ["search"]}},
                    }
                ],
                "responses": {
                    "200": _json("SolutionDetail", "the solution"),
                    "400": _error("the id is 'search': /solutions/search is the search, which needs q"),
                    "404": _error("no solution with this id"),
                    "503": _error("Partner Central cannot be read right now"),
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "Health": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string", "enum": ["ok"]}},
            },
            **_WEBHOOK_EVENT_SCHEMAS,
            "WebhookBatch": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/components/schemas/WebhookEvent"},
            },
            "WebhookAccepted": {
                "type": "object",
                "required": ["status", "events", "ignored", "signature"],
                "properties": {
                    "status": {"type": "string", "enum": ["queued"]},
                    "events": {"type": "integer"},
                    "ignored": {
                        "type": "integer",
                        "description": "events of subscription types hspc does not use",
                    },
                    "signature": {"type": "string", "enum": ["v1", "v2", "v3"]},
                },
            },
            "SubmitRequest": {
                "type": "object",
                "required": ["dealId"],
                "additionalProperties": False,
                "properties": {
                    "dealId": {"type": "string", "pattern": "^[0-9]{1,19}$"},
                    "involvementType": {
                        "type": "string",
                        "enum": list(INVOLVEMENT_TYPES),
                        "default": "Co-Sell",
                    },
                    "visibility": {"type": "string", "enum": list(VISIBILITIES), "default": "Full"},
                },
            },
            "SubmitQueued": {
                "type": "object",
                "required": ["status", "dealId", "involvementType", "visibility"],
                "properties": {
                    "status": {"type": "string", "enum": ["queued"]},
                    "dealId": {"type": "string"},
                    "involvementType": {"type": "string", "enum": list(INVOLVEMENT_TYPES)},
                    "visibility": {"type": "string", "enum": list(VISIBILITIES)},
                },
            },
            "Solution": _SOLUTION,
            "SolutionList": {
                "type": "object",
                "required": ["solutions", "count", "nextToken"],
                "properties": {
                    "solutions": {"type": "array", "items": {"$ref": "#/components/schemas/Solution"}},
                    "count": {"type": "integer"},
                    "nextToken": {"type": "string", "nullable": True},
                },
            },
            "SolutionSearch": {
                "type": "object",
                "required": ["solutions", "count", "query", "nextToken"],
                "properties": {
                    "solutions": {
                        "type": "array",
                        "items": {
                            "allOf": [
                                {"$ref": "#/components/schemas/Solution"},
                                {
                                    "type": "object",
                                    "required": ["relevanceScore"],
                                    "properties": {
                                        "relevanceScore": {"type": "integer", "minimum": 1, "maximum": 100}
                                    },
                                },
                            ]
                        },
                    },
                    "count": {"type": "integer"},
                    "query": {"type": "string"},
                    "nextToken": {"type": "string", "nullable": True},
                },
            },
            "SolutionDetail": {
                "allOf": [
                    {"$ref": "#/components/schemas/Solution"},
                    {
                        "type": "object",
                        "properties": {
                            "arn": {"type": "string", "nullable": True},
                            "createdDate": {"type": "string", "nullable": True},
                        },
                    },
                ]
            },
        },
    },
}
