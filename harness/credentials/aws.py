"""Small helpers for the credential code's AWS reads: a client factory type, pagination, error text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws.session import SessionPool
from harness.errors import AwsAccessError

# (service, region or None for the default region) -> boto3 client
Clients = Callable[[str, str | None], Any]


def pool_clients(pool: SessionPool) -> Clients:
    """A client factory over the run's session pool."""
    return lambda service, region: pool.client(service, region=region)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore exception ('' when it has none)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def describe_error(exc: BaseException) -> str:
    """`AccessDenied: User ... is not authorized` — code and message of an AWS error."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


AWS_ERRORS = (ClientError, BotoCoreError)


def paginate(client: Any, operation: str, result_key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paginated list call."""
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**params):
            yield from page.get(result_key, [])
    else:
        yield from getattr(client, operation)(**params).get(result_key, [])


def account_of(arn: str | None) -> str | None:
    """The account id inside an ARN (`arn:aws:iam::123456789012:user/x` -> `123456789012`)."""
    parts = (arn or "").split(":")
    return parts[4] or None if len(parts) > 5 else None


def read_error(what: str, exc: BaseException) -> AwsAccessError:
    """An AwsAccessError for a failed read, naming the call and what to check."""
    return AwsAccessError(f"{what} failed: {describe_error(exc)}",
                          hint="check the credentials' read permissions for this service and region")
