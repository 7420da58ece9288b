"""boto3 sessions whose credentials come from STS AssumeRole with an ExternalId, refreshed in time.

botocore's DeferredRefreshableCredentials calls AssumeRole on first use and again before the
credentials expire (15 minutes ahead, advisory; 10 minutes ahead, mandatory), so a long run never
signs with expired keys. STS is reached through boto3, which honours AWS_ENDPOINT_URL_STS.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
from botocore.credentials import DeferredRefreshableCredentials

DEFAULT_SESSION_NAME = "hspc-partner-central"


def assume_role_fetcher(
    sts: Any, role_arn: str, external_id: str | None, session_name: str, duration_seconds: int
) -> Any:
    """A function returning fresh credentials in the shape RefreshableCredentials wants."""

    def fetch() -> dict[str, str]:
        params: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": session_name,
            "DurationSeconds": duration_seconds,
        }
        if external_id:
            params["ExternalId"] = external_id
        creds = sts.assume_role(**params)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    return fetch


def assumed_role_session(
    role_arn: str,
    external_id: str | None,
    region: str,
    *,
    base_session: boto3.Session | None = None,
    session_name: str = DEFAULT_SESSION_NAME,
    duration_seconds: int = 3600,
) -> boto3.Session:
    """A boto3 Session signing as `role_arn`; the base session's own credentials only call STS."""
    base = base_session or boto3.Session(region_name=region)
    sts = base.client("sts", region_name=region)
    credentials = DeferredRefreshableCredentials(
        refresh_using=assume_role_fetcher(sts, role_arn, external_id, session_name, duration_seconds),
        method="assume-role",
    )
    core = botocore.session.Session()
    # botocore has no public setter for refreshable credentials; setting `_credentials` is the usual way
    core._credentials = credentials  # type: ignore[attr-defined]
    return boto3.Session(botocore_session=core, region_name=region)
