"""Live credential inventory: one small reader per kind, one dispatcher per scope.

Readers only read (never a secret value) and return `Credential`s; a listing that fails becomes
an `InventoryError` for that kind and scope, a detail that fails an error for that credential,
so one unreadable part never hides the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.aws.errors import AWS_ERRORS, describe_error
from harness.credentials.aws import Clients
from harness.credentials.inventory import acm, iam_access_keys, iam_server_certificates, kms, secrets
from harness.credentials.model import (
    ACM_CERTIFICATE,
    IAM_ACCESS_KEY,
    IAM_SERVER_CERTIFICATE,
    KINDS,
    KMS_KEY,
    SECRETSMANAGER_SECRET,
    Credential,
    InventoryError,
    Scope,
)
from harness.errors import HarnessError

log = logging.getLogger(__name__)

Reader = Callable[[Clients, Scope, list[InventoryError]], list[Credential]]

READERS: dict[str, Reader] = {
    ACM_CERTIFICATE: acm.read,
    IAM_SERVER_CERTIFICATE: iam_server_certificates.read,
    IAM_ACCESS_KEY: iam_access_keys.read,
    SECRETSMANAGER_SECRET: secrets.read,
    KMS_KEY: kms.read,
}


@dataclass(frozen=True)
class ScopeInventory:
    """Every credential of the listed kinds in one scope, and what could not be read."""

    scope: Scope
    credentials: tuple[Credential, ...]
    errors: tuple[InventoryError, ...]


def read_scope(clients: Clients, scope: Scope, kinds: Iterable[str] = KINDS) -> ScopeInventory:
    """Read every credential kind that lives in `scope` (IAM kinds in global scopes, the rest regional)."""
    credentials: list[Credential] = []
    errors: list[InventoryError] = []
    for kind in kinds:
        if not scope.holds(kind):
            continue
        try:
            found = READERS[kind](clients, scope, errors)
        except HarnessError as exc:
            errors.append(InventoryError(kind, scope.id, exc.message))
            continue
        except AWS_ERRORS as exc:
            errors.append(InventoryError(kind, scope.id, describe_error(exc)))
            continue
        log.debug("%s in %s: %d credential(s)", kind, scope.id, len(found))
        credentials.extend(found)
    return ScopeInventory(scope, tuple(sorted(credentials, key=lambda c: (c.kind, c.id))), tuple(errors))
