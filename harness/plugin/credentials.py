"""Credential fixtures: one checker per process, the instance's credentials, and per-scope unmanaged ones.

`credential_scope` is parametrized (like `component`) with every account/region the selected
instances reach, so `test_unmanaged_credentials[default/us-east-1]` exists once per scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from harness.errors import HarnessError
from harness.plugin.fixtures import EvaluationFailed, parametrized_value
from harness.plugin.session import HarnessSession, harness_session
from harness.plugin.transport import record_fact
from harness.stacks.model import ComponentInstance

if TYPE_CHECKING:  # the credential package (cryptography, the stack loader) loads when a run uses it
    from harness.credentials.check import CredentialChecker, InstanceCredentials
    from harness.credentials.model import InventoryError, Scope


def credential_scopes(config: pytest.Config) -> list[Scope]:
    """The scopes reached by the selected instances, sorted by id."""
    from harness.credentials.linking import scopes_for

    session = harness_session(config)
    return list(scopes_for(session.selected_instances(), session.config))


@pytest.fixture(scope="session")
def credential_checker(harness: HarnessSession) -> CredentialChecker:
    """The process's credential checker (each scope listed once, each state read once)."""
    from harness.credentials.service import make_checker

    try:
        return make_checker(harness.config, harness.pool, harness.stack_set, harness.redactor,
                            state_of=harness.state_of)
    except HarnessError as exc:
        raise pytest.UsageError(f"stackharness: {exc}") from None


@pytest.fixture
def credential_scope(request: pytest.FixtureRequest) -> Scope:
    """The account/region this item checks for unmanaged credentials."""
    return parametrized_value(request, "credential_scope")


def _assessed(request: pytest.FixtureRequest, owner: str, label: str,
              read: Callable[[], InstanceCredentials]) -> InstanceCredentials:
    """`read()`'s credentials recorded for the report; an error reading them fails the item (never a pass)."""
    try:
        result = read()
    except HarnessError as exc:
        raise EvaluationFailed(f"{owner}: {exc}") from None
    record_fact(request.node, "credentials", [row.to_json() for row in result.rows])
    if result.errors:
        raise EvaluationFailed(f"{label}: credentials not read:\n" + "\n".join(_error_line(e) for e in result.errors))
    return result


def _error_line(error: InventoryError) -> str:
    return f"{error.kind}{f' {error.credential}' if error.credential else ''} in {error.scope}: {error.message}"


@pytest.fixture
def instance_credentials(request: pytest.FixtureRequest, component: ComponentInstance,
                         credential_checker: CredentialChecker) -> InstanceCredentials:
    """The credentials the instance's state manages, assessed under its environment's policy."""
    return _assessed(request, component.id, component.id, lambda: credential_checker.for_instance(component))


@pytest.fixture
def unmanaged_credentials(request: pytest.FixtureRequest, credential_scope: Scope,
                          credential_checker: CredentialChecker) -> InstanceCredentials:
    """The scope's credentials that no instance's state manages."""
    return _assessed(request, credential_scope.id, f"unmanaged in {credential_scope.id}",
                     lambda: credential_checker.unmanaged(credential_scope))
