"""The OpenAPI 3.0 description of the ingress, served at /openapi.json. Kept next to the routes it
describes; the tests check that every route is described and that the answers match the schemas."""

from __future__ import annotations

from typing import Any

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
    {"name": "nextToken", "in": "query", "required": False, "schema": {"type": "string"}},
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
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
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
                    {"name": "solutionId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json("SolutionDetail", "the solution"),
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
            "WebhookEvent": {
                "type": "object",
                "required": ["eventId", "subscriptionType"],
                "properties": {
                    "eventId": {"type": "integer", "minimum": 0},
                    "subscriptionType": {"type": "string", "minLength": 1},
                    "objectId": {"type": "integer", "minimum": 0},
                    "occurredAt": {"type": "integer", "minimum": 0},
                    "attemptNumber": {"type": "integer", "minimum": 0},
                    "portalId": {"type": "integer", "minimum": 0},
                    "propertyName": {"type": "string"},
                    "propertyValue": {"type": "string", "nullable": True},
                    "changeSource": {"type": "string"},
                    "fromObjectId": {"type": "integer", "minimum": 0},
                    "toObjectId": {"type": "integer", "minimum": 0},
                    "associationType": {"type": "string"},
                    "associationRemoved": {"type": "boolean"},
                },
            },
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
