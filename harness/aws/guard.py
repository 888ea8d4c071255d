"""The read-only guard: drift and check runs cannot change AWS, whatever the code below them does.

An operation is a read when its name starts with one of `READ_PREFIXES` (at a word boundary, so
`ListBuckets` matches `List` but a hypothetical `Listen` would not) or is one of `READ_OPERATIONS`.
Anything else is refused with `ReadOnlyViolation` unless a `WritePermission` covering it is active
in the calling context (`with guard.allow_writes(reason, ...)`), and every permitted write is logged
at WARNING with its identifiers (redacted).
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ReadOnlyViolation
from harness.log import Redactor, is_secret_key

log = logging.getLogger("harness.aws.guard")

READ_PREFIXES = ("Describe", "List", "Get", "Head", "BatchGet", "Lookup")
READ_OPERATIONS = frozenset({"Query", "Scan", "sts.AssumeRole", "sts.GetCallerIdentity"})
# The item the `state_lock` fixture writes and deletes, as Terraform's S3 backend does.
LOCK_OPERATIONS = frozenset({"dynamodb.PutItem", "dynamodb.DeleteItem"})
# Terraform's state digest items (`<bucket>/<key>-md5`, as `state.layout.DIGEST_SUFFIX`) share the table.
DIGEST_SUFFIX = "-md5"
_IDENTIFIER = re.compile(r"(?:Name|Names|Id|Ids|Arn|Arns|Bucket|Key|Url|Urls)$")
_IDENTIFIER_MAX = 300                      # longer values are bodies, not names


def is_read(service: str, operation: str) -> bool:
    """True for operations the guard lets through without a permission."""
    if operation in READ_OPERATIONS or f"{service}.{operation}" in READ_OPERATIONS:
        return True
    return any(operation.startswith(prefix) and (len(operation) == len(prefix)
                                                 or operation[len(prefix)].isupper())
               for prefix in READ_PREFIXES)


def identifiers(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that name what a call touches (`TableName`, `Bucket`, `Key`, `...Id`, ...).

    Only short plain values, and never one whose name says it is secret: `PrivateKey` ends like an
    identifier but holds a PEM key, which must not reach a log line or an error message.
    """
    return {name: value for name, value in params.items()
            if _IDENTIFIER.search(name) and not is_secret_key(name)
            and isinstance(value, str | int | dict | list) and len(str(value)) <= _IDENTIFIER_MAX}


@dataclass(frozen=True)
class WritePermission:
    """Leave to write, with a reason. `operations` (`service.Operation`) and `only` narrow it.

    `only` maps parameter names to the single value they must have, e.g. `{"TableName": "tf-locks"}`;
    `accept`, when set, must also return True for the call's parameters.
    `level` is the log level of each write (WARNING; the demo's provisioning of a throwaway moto
    server logs at DEBUG).
    """

    reason: str
    operations: frozenset[str] | None = None
    only: Mapping[str, Any] = field(default_factory=dict)
    level: int = logging.WARNING
    accept: Callable[[Mapping[str, Any]], bool] | None = None

    def covers(self, service: str, operation: str, params: Mapping[str, Any]) -> bool:
        if self.operations is not None and f"{service}.{operation}" not in self.operations:
            return False
        return all(params.get(name) == value for name, value in self.only.items()) and (
            self.accept is None or self.accept(params))


def is_lock_item_write(params: Mapping[str, Any]) -> bool:
    """True when a PutItem/DeleteItem names a lock item: a string `LockID` not ending in `-md5`."""
    item = params.get("Item") or params.get("Key")
    lock_id = item.get("LockID") if isinstance(item, Mapping) else None
    value = lock_id.get("S") if isinstance(lock_id, Mapping) else None
    return isinstance(value, str) and not value.endswith(DIGEST_SUFFIX)


class ReadOnlyGuard:
    """Refuses mutating calls (when `read_only`) and logs every write that goes through.

    Permissions live in a context variable: they apply to the thread (or task) that opened them and
    end with the `with` block, so a write window in one test never opens writes for another thread.
    """

    def __init__(self, redactor: Redactor, *, read_only: bool = True) -> None:
        self.redactor = redactor
        self.read_only = read_only
        self._permissions: contextvars.ContextVar[tuple[WritePermission, ...]] = contextvars.ContextVar(
            f"stackharness_write_permissions_{id(self)}", default=())

    @contextmanager
    def allow_writes(self, reason: str, *, operations: Collection[str] | None = None,
                     only: Mapping[str, Any] | None = None, level: int = logging.WARNING,
                     accept: Callable[[Mapping[str, Any]], bool] | None = None
                     ) -> Iterator[WritePermission]:
        """Permit writes inside the block (all, or just `operations`, or just those matching `only`
        and `accept`)."""
        if not reason.strip():
            raise ValueError("a write permission needs a reason (it is logged with every write)")
        permission = WritePermission(reason, frozenset(operations) if operations is not None else None,
                                     dict(only or {}), level, accept)
        token = self._permissions.set((*self._permissions.get(), permission))
        try:
            yield permission
        finally:
            self._permissions.reset(token)

    def allow_lock_writes(self, table: str) -> AbstractContextManager[WritePermission]:
        """Permit only the Terraform-compatible lock item writes (`PutItem`/`DeleteItem`) on `table`;
        never its `-md5` digest items."""
        return self.allow_writes(f"state lock item on DynamoDB table {table}",
                                 operations=LOCK_OPERATIONS, only={"TableName": table}, accept=is_lock_item_write)

    def check(self, service: str, operation: str, params: Mapping[str, Any], *, account: str,
              region: str) -> None:
        """Let a call through, log it when it writes, or raise `ReadOnlyViolation`."""
        if is_read(service, operation):
            return
        name = f"{service}.{operation}"
        touched = self.redactor.redact_obj(identifiers(params))
        described = ", ".join(f"{k}={v}" for k, v in touched.items()) or "no identifiers"
        permission = next((p for p in reversed(self._permissions.get())
                           if p.covers(service, operation, params)), None)
        if permission is None and self.read_only:
            raise ReadOnlyViolation(
                f"refused {name} ({described}) in {account}/{region}: this run is read-only",
                hint="drift and check runs never change AWS; only commands that exist to write "
                     "(lock clean, credential rotation, demo provisioning) lift the guard")
        reason = permission.reason if permission else "write access granted to this run"
        log.log(permission.level if permission else logging.WARNING, "AWS write %s (%s) in %s/%s: %s", name,
                described, account, region, self.redactor.redact(reason))
