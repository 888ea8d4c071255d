"""Small helpers for the credential code's AWS reads: a client factory type, pagination, error text."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.aws.errors import describe_error
from harness.errors import AwsAccessError

if TYPE_CHECKING:
    from harness.aws.session import SessionPool

# (service, region or None for the default region) -> boto3 client
Clients = Callable[[str, str | None], Any]


def pool_clients(pool: SessionPool) -> Clients:
    """A client factory over the run's session pool."""
    return lambda service, region: pool.client(service, region=region)


def account_of(arn: str | None) -> str | None:
    """The account id inside an ARN (`arn:aws:iam::123456789012:user/x` -> `123456789012`)."""
    parts = (arn or "").split(":")
    return parts[4] or None if len(parts) > 5 else None


def read_error(what: str, exc: BaseException) -> AwsAccessError:
    """An AwsAccessError for a failed read, naming the call and what to check."""
    return AwsAccessError(f"{what} failed: {describe_error(exc)}",
                          hint="check the credentials' read permissions for this service and region")
