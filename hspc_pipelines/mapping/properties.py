"""HubSpot property names the product reads and the custom properties it creates.

One list used by the bootstrap (creates the properties), the clients (which properties to fetch) and
the mapping (field names). Types follow the data: enumerations carry their allowed options.
"""

from __future__ import annotations

from typing import Any, Final

from .vocabulary import INVOLVEMENT_TYPES, STAGES, VISIBILITIES, ReviewStatus, SyncStatus

# The options of the enumeration properties, as plain strings in the vocabulary's order.
REVIEW_STATUSES: Final = tuple(status.value for status in ReviewStatus)
SYNC_STATUSES: Final = tuple(status.value for status in SyncStatus)
ENGAGEMENT_SCORES: Final = ("High", "Medium", "Low")

# Standard HubSpot properties read from each object.
DEAL_STANDARD_PROPERTIES: Final = (
    "dealname",
    "amount",
    "closedate",
    "dealstage",
    "pipeline",
    "description",
    "deal_currency_code",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
    "createdate",
)
COMPANY_PROPERTIES: Final = (
    "name",
    "domain",
    "website",
    "industry",
    "country",
    "city",
    "state",
    "zip",
    "address",
    "phone",
    "hs_lastmodifieddate",
)
CONTACT_PROPERTIES: Final = (
    "firstname",
    "lastname",
    "email",
    "phone",
    "mobilephone",
    "jobtitle",
    "hs_lastmodifieddate",
)
NOTE_KEY_PROPERTY: Final = "hspc_note_key"
NOTE_PROPERTIES: Final = ("hs_note_body", "hs_timestamp", NOTE_KEY_PROPERTY)


def _text(name: str, label: str, description: str, textarea: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "string",
        "fieldType": "textarea" if textarea else "text",
        "groupName": "dealinformation",
        "description": description,
    }


def _enum(
    name: str, label: str, description: str, options: tuple[str, ...], multi: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "enumeration",
        "fieldType": "checkbox" if multi else "select",
        "groupName": "dealinformation",
        "description": description,
        # HubSpot's OptionInput requires `hidden` as well as label and value.
        "options": [
            {"label": o, "value": o, "displayOrder": i, "hidden": False} for i, o in enumerate(options)
        ],
    }


# Custom deal properties the product writes or reads (created idempotently by the bootstrap).
CUSTOM_DEAL_PROPERTIES: Final[tuple[dict[str, Any], ...]] = (
    # Unique: HubSpot refuses a second deal with the same id, and a batch read by it (idProperty) has
    # no search-index lag (the import's look-up, reconcile/import_deals.py).
    {
        **_text("aws_opportunity_id", "AWS Opportunity ID", "Partner Central opportunity id (O…)"),
        "hasUniqueValue": True,
    },
    _text("aws_opportunity_arn", "AWS Opportunity ARN", "Partner Central opportunity ARN"),
    _text(
        "aws_opportunity_title",
        "AWS Opportunity Title",
        "Project.Title in Partner Central (frozen after submission)",
    ),
    _enum("aws_review_status", "AWS Review Status", "LifeCycle.ReviewStatus", REVIEW_STATUSES),
    _text("aws_review_comments", "AWS Review Comments", "LifeCycle.ReviewComments from AWS", textarea=True),
    _enum("aws_stage", "AWS Stage", "LifeCycle.Stage in Partner Central", STAGES),
    _enum("aws_sync_status", "AWS Sync Status", "Outcome of the last sync of this deal", SYNC_STATUSES),
    _text(
        "aws_sync_error",
        "AWS Sync Error",
        "Why the last sync did not complete, field by field",
        textarea=True,
    ),
    _text("aws_invitation_id", "AWS Invitation ID", "Engagement invitation this deal came from"),
    _enum("aws_engagement_score", "AWS Engagement Score", "Insights.EngagementScore", ENGAGEMENT_SCORES),
    {
        "name": "aws_submission_date",
        "label": "AWS Submission Date",
        "type": "datetime",
        "fieldType": "date",
        "groupName": "dealinformation",
        "description": "When the opportunity was submitted to AWS",
    },
    _enum(
        "aws_involvement_type", "AWS Involvement Type", "Co-Sell or For Visibility Only", INVOLVEMENT_TYPES
    ),
    _enum("aws_visibility", "AWS Visibility", "Full or Limited", VISIBILITIES),
    _text("aws_seller_name", "AWS Seller", "Assigned AWS seller (name and email)"),
    _text("aws_team", "AWS Team", "AWS opportunity team: role, name, email", textarea=True),
    _text("aws_next_steps", "AWS Next Best Actions", "Insights.NextBestActions from AWS", textarea=True),
    _text(
        "aws_solution_ids",
        "AWS Solution IDs",
        "Partner solutions associated with the opportunity (ids separated by ;)",
    ),
    _text(
        "aws_industry", "AWS Industry Override", "Partner Central industry to use instead of the company's"
    ),
    _text("aws_delivery_models", "AWS Delivery Models", "Project.DeliveryModels (separated by ; or ,)"),
    _text("aws_primary_needs", "AWS Primary Needs", "PrimaryNeedsFromAws (separated by ; or ,)"),
    _text("aws_use_case", "AWS Use Case", "Project.CustomerUseCase"),
    {
        "name": "aws_expected_spend",
        "label": "AWS Expected Monthly Spend",
        "type": "number",
        "fieldType": "number",
        "groupName": "dealinformation",
        "description": "Overrides the amount-derived monthly AWS spend",
    },
    {
        "name": "aws_submit_requested",
        "label": "Submit to AWS",
        "type": "bool",
        "fieldType": "booleancheckbox",
        "groupName": "dealinformation",
        "description": "Set to submit this opportunity to AWS",
        "options": [
            {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
            {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
        ],
    },
)

CUSTOM_NOTE_PROPERTIES: Final[tuple[dict[str, Any], ...]] = (
    {
        "name": NOTE_KEY_PROPERTY,
        "label": "hspc note key",
        "type": "string",
        "fieldType": "text",
        "groupName": "note_information",
        "description": "Marks a note written by hspc so it is written once",
    },
)

DEAL_PROPERTIES: Final = DEAL_STANDARD_PROPERTIES + tuple(p["name"] for p in CUSTOM_DEAL_PROPERTIES)
