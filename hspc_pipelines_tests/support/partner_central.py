"""Partner Central as a person would look at it: a boto3 client on the stack's emulator, all opportunities."""

from __future__ import annotations

from typing import Any

import boto3

from hspc_pipelines.emulators.stack import EmulatorStack


def partner_central_client(stack: EmulatorStack) -> Any:
    return boto3.client(
        "partnercentral-selling",
        region_name="us-east-1",
        endpoint_url=stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def list_opportunities(client: Any, catalog: str = "AWS") -> list[dict[str, Any]]:
    """Every opportunity summary, page by page."""
    out: list[dict[str, Any]] = []
    token = None
    while True:
        kw: dict[str, Any] = {
            "Catalog": catalog,
            "MaxResults": 100,
            **({"NextToken": token} if token else {}),
        }
        page = client.list_opportunities(**kw)
        out += [dict(o) for o in page["OpportunitySummaries"]]
        token = page.get("NextToken")
        if not token:
            return out
