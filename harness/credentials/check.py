"""The credential check: inventory per scope, linked to the instances that manage it, assessed by policy.

One `CredentialChecker` per process (CLI run or pytest worker): each scope is listed once and each
state read once, however many items ask. Thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.config import HarnessConfig
from harness.credentials.aws import Clients
from harness.credentials.inventory import ScopeInventory, read_scope
from harness.credentials.linking import (
    ManagedCredential,
    Ownership,
    in_scope,
    managed_credentials,
    managed_refs,
    scope_environment_type,
    scopes_for,
    scopes_of,
)
from harness.credentials.model import (
    FAILING,
    STATE_ERROR_KIND,
    UNLINKED_LABEL,
    Credential,
    CredentialRow,
    InventoryError,
    Scope,
    iso,
    now_utc,
    row_order,
)
from harness.credentials.policy import policy_for
from harness.credentials.status import assess
from harness.errors import HarnessError
from harness.stacks.model import ComponentInstance, StackSet
from harness.state.model import TerraformState

log = logging.getLogger(__name__)

StateOf = Callable[[ComponentInstance], TerraformState]


@dataclass(frozen=True)
class CredentialReport:
    """The answer of `creds check`: rows sorted by days left, and what could not be read."""

    as_of: datetime
    rows: tuple[CredentialRow, ...]
    errors: tuple[InventoryError, ...] = ()   # unreadable inventory parts and states

    @property
    def failing(self) -> tuple[CredentialRow, ...]:
        """Rows that make `creds check` exit 1 (critical, expired, overdue, rotation_disabled)."""
        return tuple(r for r in self.rows if r.status in FAILING)

    def to_json(self) -> dict[str, Any]:
        """`{"as_of", "credentials": [...], "errors": [...]}`."""
        return {"as_of": iso(self.as_of), "credentials": [r.to_json() for r in self.rows],
                "errors": [e.to_json() for e in self.errors]}


@dataclass(frozen=True)
class InstanceCredentials:
    """One instance's credentials (or one scope's unmanaged ones) and the problems met on the way."""

    rows: tuple[CredentialRow, ...]
    errors: tuple[InventoryError, ...] = ()
    notes: tuple[str, ...] = ()


class _Once:
    """Compute each key once per process; concurrent callers wait for the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[Any, threading.Lock] = {}
        self._values: dict[Any, Any] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._values:
                self._values[key] = compute()
            return self._values[key]


@dataclass
class CredentialChecker:
    """Inventory, ownership and assessment for a stack set, cached per process."""

    config: HarnessConfig
    clients: Clients
    stack_set: StackSet
    state_of: StateOf
    as_of: datetime = field(default_factory=now_utc)
    _cache: _Once = field(default_factory=_Once, repr=False)

    # -- cached reads ----------------------------------------------------------------------------
    def inventory(self, scope: Scope) -> ScopeInventory:
        """Every credential in a scope (listed once)."""
        return self._cache.get(("inventory", scope), lambda: read_scope(self.clients, scope))

    def managed_by(self, instance: ComponentInstance) -> tuple[ManagedCredential, ...] | HarnessError:
        """The credentials an instance's state manages, or the error reading the state."""
        def read() -> tuple[ManagedCredential, ...] | HarnessError:
            try:
                return managed_credentials(self.state_of(instance))
            except HarnessError as exc:
                return exc
        return self._cache.get(("managed", instance.id), read)

    def ownership(self, instances: Iterable[ComponentInstance]) -> tuple[Ownership, tuple[ComponentInstance, ...]]:
        """Who manages what among `instances`, and the instances whose state was unreadable."""
        owners: dict[tuple[str, str], str] = {}
        unreadable = []
        for instance in sorted(instances, key=lambda i: i.id):
            managed = self.managed_by(instance)
            if isinstance(managed, HarnessError):
                unreadable.append(instance)
                continue
            for ref in managed_refs(managed):
                owners.setdefault(ref, instance.id)
        return Ownership(owners), tuple(unreadable)

    # -- rows ------------------------------------------------------------------------------------
    def row(self, credential: Credential, instance: str | None, environment_type: str | None,
            unlinked: tuple[str, ...] = ()) -> CredentialRow:
        """Assess one credential under the policy of an environment type."""
        policy = policy_for(self.config.profile_for(environment_type), credential.kind)
        return CredentialRow(credential, instance, policy.to_json(), assess(credential, policy, self.as_of), unlinked)

    def unowned_row(self, credential: Credential, scope: Scope,
                    unreadable: Iterable[ComponentInstance]) -> CredentialRow:
        """A credential no readable state manages: unmanaged, or unlinked while an in-scope state is unreadable.

        An unlinked credential is judged by the environment type its possible managers share (the
        likely owner's policy), else by the scope's, like an unmanaged one.
        """
        candidates = [i for i in unreadable if in_scope(i, scope, self.config)]
        types = {i.environment_type for i in candidates}
        env_type = (types.pop() if len(types) == 1 else
                    scope_environment_type(scope, self.stack_set.deployable, self.config))
        return self.row(credential, None, env_type, tuple(i.id for i in candidates))

    def state_errors(self, unreadable: Iterable[ComponentInstance],
                     scopes: Iterable[Scope]) -> tuple[InventoryError, ...]:
        """One error per unreadable state reaching `scopes`: its credentials could not be linked."""
        scopes = tuple(scopes)
        errors = []
        for instance in unreadable:
            if not any(in_scope(instance, scope, self.config) for scope in scopes):
                continue
            managed = self.managed_by(instance)
            message = (f"the state of {instance.id} could not be read: {managed}; "
                       f"the credentials it may manage are listed as {UNLINKED_LABEL}")
            errors.append(InventoryError(STATE_ERROR_KIND, scopes_of(instance, self.config)[0].id, message,
                                         instance=instance.id))
        return tuple(errors)

    def for_instance(self, instance: ComponentInstance) -> InstanceCredentials:
        """The credentials an instance's state manages, assessed under its environment's policy.

        Raises the state's `HarnessError` when the state cannot be read (the item errors).
        """
        managed = self.managed_by(instance)
        if isinstance(managed, HarnessError):
            raise managed
        refs = managed_refs(managed)
        rows, errors = [], []
        for scope in scopes_of(instance, self.config):
            inventory = self.inventory(scope)
            errors.extend(inventory.errors)
            for credential in inventory.credentials:
                if any((credential.kind, ref) in refs for ref in credential.refs):
                    rows.append(self.row(credential, instance.id, instance.environment_type))
        found = {(r.credential.kind, ref) for r in rows for ref in r.credential.refs}
        notes = tuple(f"{m.address} ({m.kind}) is in the state but was not found live" for m in managed
                      if not any((m.kind, ref) in found for ref in m.refs) and not errors)
        return InstanceCredentials(_sorted(rows), tuple(errors), notes)

    def unmanaged(self, scope: Scope) -> InstanceCredentials:
        """A scope's credentials that no deployable instance's state manages (unlinked ones included)."""
        instances = [i for i in self.stack_set.deployable if i.account_id == scope.account]
        ownership, unreadable = self.ownership(instances)
        unreadable = tuple(i for i in unreadable if in_scope(i, scope, self.config))
        inventory = self.inventory(scope)
        rows = [self.unowned_row(c, scope, unreadable) for c in inventory.credentials if ownership.owner_of(c) is None]
        notes = ()
        if unreadable:
            ids = [i.id for i in unreadable]
            notes = (f"ownership is uncertain: the state of {len(ids)} instance(s) could not be read "
                     f"({', '.join(ids[:5])}{', …' if len(ids) > 5 else ''}); the credentials no other state "
                     f"manages are listed as {UNLINKED_LABEL}",)
        return InstanceCredentials(_sorted(rows), inventory.errors, notes)

    def report(self, instances: Iterable[ComponentInstance] | None = None) -> CredentialReport:
        """Every credential in the scopes the instances reach (default: all deployable), each once.

        An unreadable state in those scopes is an error of the report (the check is incomplete).
        """
        instances = list(self.stack_set.deployable if instances is None else instances)
        ownership, unreadable = self.ownership(self.stack_set.deployable)
        by_id = {i.id: i for i in self.stack_set.deployable}
        rows: dict[tuple[str, str], CredentialRow] = {}
        scopes = scopes_for(instances, self.config)
        errors: list[InventoryError] = list(self.state_errors(unreadable, scopes))
        for scope in scopes:
            inventory = self.inventory(scope)
            errors.extend(inventory.errors)
            for credential in inventory.credentials:
                if (credential.kind, credential.id) in rows:
                    continue   # one pool serves every account label: the same credential, listed again
                owner = ownership.owner_of(credential)
                rows[(credential.kind, credential.id)] = (
                    self.row(credential, owner, by_id[owner].environment_type) if owner
                    else self.unowned_row(credential, scope, unreadable))
        return CredentialReport(self.as_of, _sorted(rows.values()), tuple(errors))


def _sorted(rows: Iterable[CredentialRow]) -> tuple[CredentialRow, ...]:
    return tuple(sorted(rows, key=lambda r: row_order(r.to_json())))

