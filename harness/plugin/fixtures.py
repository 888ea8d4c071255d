"""Fixtures suites use: `component` (one item per instance), `tf_state`, `drift_result`, and the shared parts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from harness.config import HarnessConfig
from harness.drift.findings import InstanceResult
from harness.drift.plan import PlanError
from harness.drift.suppressions import SuppressionError
from harness.errors import HarnessError, StateError
from harness.plugin.drift_checks import instance_drift, suppressed
from harness.plugin.session import HarnessSession, UnresolvedItem, harness_session
from harness.plugin.transport import record_fact
from harness.stacks.model import ComponentInstance, StackSet
from harness.state.model import TerraformState

if TYPE_CHECKING:
    from harness.aws.session import SessionPool


class EvaluationFailed(Exception):
    """Raised in a fixture when an instance could not be evaluated: pytest reports an error, never a pass.

    Like drift failures, it is shown as its message alone (see `harness.plugin.transport.attach`).
    """


@pytest.fixture(scope="session")
def harness(request: pytest.FixtureRequest) -> HarnessSession:
    """The process's shared harness state (config, stack set, AWS pool, caches)."""
    return harness_session(request.config)


@pytest.fixture(scope="session")
def harness_config(harness: HarnessSession) -> HarnessConfig:
    """The resolved HarnessConfig of this run."""
    return harness.config


@pytest.fixture(scope="session")
def stack_set(harness: HarnessSession) -> StackSet:
    """Every resolved instance of the repository under test."""
    return harness.stack_set


@pytest.fixture(scope="session")
def aws(harness: HarnessSession) -> SessionPool:
    """The shared AWS session pool (clients per service and region)."""
    return harness.pool


def parametrized_value(request: pytest.FixtureRequest, fixture: str) -> Any:
    """The value stackharness parametrized `fixture` with for this item; a usage error outside such an item."""
    param = getattr(request, "param", None)
    if param is None:
        raise pytest.UsageError(f"the `{fixture}` fixture is parametrized by stackharness; "
                                "it cannot be requested outside a parametrized suite function")
    return param


@pytest.fixture
def component(request: pytest.FixtureRequest) -> ComponentInstance:
    """The component instance this item checks (`test_x[component@stack]`)."""
    param = parametrized_value(request, "component")
    if isinstance(param, UnresolvedItem):
        raise param.error()
    return param


@pytest.fixture
def tf_state(harness: HarnessSession, component: ComponentInstance) -> TerraformState:
    """The parsed Terraform state of the instance (read once per worker, sensitive values registered)."""
    return harness.state_of(component)


@pytest.fixture
def drift_result(request: pytest.FixtureRequest, harness: HarnessSession,
                 component: ComponentInstance) -> InstanceResult:
    """The instance's drift check, suppressions applied. Raises (an error item) when any part could not
    be evaluated. Reads the refresh-only plan JSON instead of live AWS when `--plan-json-dir` is given."""
    profile = harness.config.profile_for(component.environment_type)
    try:
        result = suppressed(request.node, instance_drift(harness, component, severity=profile.drift_severity))
    except (StateError, SuppressionError, PlanError):
        raise                                   # shown as their message: where, what, what to do
    except HarnessError as exc:
        raise EvaluationFailed(f"{component.id}: {exc}") from None
    record_fact(request.node, "drift", result.to_json())
    if result.errors:
        lines = [f"{e.address or component.id}: {e.message}" for e in result.errors]
        raise EvaluationFailed(f"{component.id}: {len(lines)} resource(s) could not be evaluated:\n"
                               + "\n".join(lines))
    return result
