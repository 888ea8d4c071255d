"""Assumed-role credentials that refresh themselves before they expire.

botocore's `DeferredRefreshableCredentials` calls our fetcher on first use and again when fewer than
15 minutes are left (10 minutes: every caller waits for the refresh), so a run longer than the role
session's hour never signs with expired keys. The fetcher calls STS through a pooled client, so the
AssumeRole calls are guarded, retried, metered and budgeted like every other call.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from botocore.exceptions import ClientError

from harness.aws.clock import Clock
from harness.errors import AwsAccessError
from harness.log import Redactor

ROLE_SESSION_NAME = "stackharness"
ROLE_DURATION = 3600  # seconds; STS's default and the shortest every role allows


def assume_role_credentials(sts: Any, role_arn: str, *, clock: Clock, redactor: Redactor,
                            session_name: str = ROLE_SESSION_NAME,
                            duration: int = ROLE_DURATION) -> DeferredRefreshableCredentials:
    """Credentials for `role_arn`, fetched with the STS client `sts` on first use and refreshed."""

    def fetch() -> dict[str, str]:
        try:
            response = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name,
                                       DurationSeconds=duration)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise AwsAccessError(f"cannot assume role {role_arn}: {code}",
                                 hint="check role_arn (settings.stackharness.role_arn or the backend's "
                                      "role_arn) and that the calling identity may assume it") from None
        creds = response["Credentials"]
        redactor.register([creds["SecretAccessKey"], creds["SessionToken"]])
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

    return DeferredRefreshableCredentials(refresh_using=fetch, method="assume-role",
                                          time_fetcher=clock.now)


class _FixedProvider(CredentialProvider):
    """A credential provider that hands out one credentials object (first in the chain)."""

    METHOD = "stackharness-assume-role"
    CANONICAL_NAME = "stackharness-assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def botocore_session(profile: str | None, credentials: Any | None = None) -> botocore.session.Session:
    """A botocore session for `profile`; with `credentials`, those come first in its provider chain."""
    session = botocore.session.Session(profile=profile)
    if credentials is not None:
        resolver = session.get_component("credential_provider")
        resolver.insert_before("env", _FixedProvider(credentials))
    return session

