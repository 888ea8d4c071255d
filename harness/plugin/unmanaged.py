"""`test_unmanaged[<account>/<region>]`: one item per account/region under check.

Items exist for every account/region of the selected instances. With no `unmanaged` config the
check is off: the items are skipped, saying so, and drift.json's summary says `unmanaged_check: off`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from harness.drift.suppressions import apply_suppressions, today_utc
from harness.drift.unmanaged import Scope, UnmanagedResult, check_scope, owns_globals, scope_of, scopes_of
from harness.errors import HarnessError
from harness.inventory.registry import RESOURCE_TYPES
from harness.plugin.fixtures import EvaluationFailed, parametrized_value
from harness.plugin.session import HarnessSession, harness_session
from harness.plugin.suppression_fixtures import item_suppressions
from harness.plugin.transport import record_fact
from harness.stacks.model import ComponentInstance
from harness.state.model import TerraformState
from harness.state.reader import MissingStateError

PARAM = "unmanaged_scope"
OFF_REASON = ("unmanaged check is off: set unmanaged.tag_keys or unmanaged.name_prefixes in stackharness.yaml "
              "to report live resources that are in no state")


def selected_scopes(session: HarnessSession) -> list[Scope]:
    """The account/regions of the selected deployable instances, sorted (identical on every worker)."""
    return scopes_of(session.selected_instances(), session.config.default_region)


def parametrize_unmanaged(metafunc: pytest.Metafunc) -> None:
    """One item per scope for test functions that use `unmanaged_scope` (directly or through a fixture)."""
    if PARAM in metafunc.fixturenames:
        scopes = selected_scopes(harness_session(metafunc.config))
        metafunc.parametrize(PARAM, scopes, ids=[s.id for s in scopes], indirect=True)


@pytest.fixture
def unmanaged_scope(request: pytest.FixtureRequest) -> Scope:
    """The account/region this item checks."""
    return parametrized_value(request, PARAM)


@pytest.fixture
def unmanaged_result(request: pytest.FixtureRequest, harness: HarnessSession,
                     unmanaged_scope: Scope) -> UnmanagedResult:
    """Live resources of the scope that carry an ownership marker but are in no state (suppressions applied)."""
    rules = harness.config.unmanaged
    if not rules.enabled:
        pytest.skip(OFF_REASON)
    deployable = harness.stack_set.deployable
    account = [i for i in deployable if (i.account_id or None) == unmanaged_scope.account]
    regional = [i for i in account if scope_of(i, harness.config.default_region).id == unmanaged_scope.id]
    try:
        states = _states(harness, account)
        result = check_scope(
            unmanaged_scope, harness.inventory, RESOURCE_TYPES, rules,
            regional_states=[states[i.id] for i in regional if i.id in states],
            account_states=list(states.values()), stacks=harness.stack_set.stacks,
            include_global=owns_globals(unmanaged_scope, selected_scopes(harness)),
            stack_context=lambda stack: _stack_context(harness, stack))
        entries = item_suppressions(request.node)
    except HarnessError as exc:
        raise EvaluationFailed(f"{unmanaged_scope.id}: {exc}") from None
    result = dataclasses.replace(result, findings=apply_suppressions(result.findings, entries, today=today_utc()))
    record_fact(request.node, "unmanaged", result.to_json())
    if result.errors:
        raise EvaluationFailed(f"{unmanaged_scope.id}: the unmanaged check could not be evaluated:\n"
                               + "\n".join(e.message for e in result.errors))
    return result


def _states(harness: HarnessSession, instances: list[ComponentInstance]) -> dict[str, TerraformState]:
    """The states of the instances; never-applied ones have none. An unreadable state is an error: it
    could hold resources that would otherwise be reported as unmanaged."""
    states, problems = {}, []
    for instance in instances:
        try:
            states[instance.id] = harness.state_of(instance)
        except MissingStateError:
            continue
        except HarnessError as exc:
            problems.append(f"{instance.id}: {exc}")
    if problems:
        raise EvaluationFailed("cannot tell managed from unmanaged while states are unreadable:\n"
                               + "\n".join(problems))
    return states


def _stack_context(harness: HarnessSession, stack: str | None) -> Mapping[str, Any]:
    """The owning stack's environment type and the severity its profile gives unmanaged drift."""
    environment_type = next((i.environment_type for i in harness.stack_set.deployable if i.stack == stack), None)
    profile = harness.config.profile_for(environment_type)
    return {"environment_type": environment_type, "severity": profile.drift_severity}
