"""How a drift item gets its result: from the instance's refresh-only plan JSON when `--plan-json-dir`
is given, else by reading its state and the live resources; then suppressions are applied."""

from __future__ import annotations

import dataclasses

import pytest

from harness.drift.check import check_instance
from harness.drift.findings import InstanceResult
from harness.drift.plan import plan_file, read_plan, result_from_plan
from harness.drift.suppressions import apply_suppressions, today_utc
from harness.inventory.registry import RESOURCE_TYPES
from harness.plugin.session import HarnessSession
from harness.plugin.suppression_fixtures import item_suppressions, marker_suppressions
from harness.plugin.transport import record_fact
from harness.stacks.model import ComponentInstance


def instance_drift(session: HarnessSession, instance: ComponentInstance, *, severity: str) -> InstanceResult:
    """The instance's unsuppressed result (raises HarnessError when its state or plan cannot be read)."""
    plans = session.config.plan_json_dir
    if plans is not None:
        plan = read_plan(plan_file(plans, instance.id))
        return result_from_plan(plan, instance, RESOURCE_TYPES, severity=severity, redactor=session.redactor)
    state = session.state_of(instance)
    return check_instance(instance, state, session.inventory, RESOURCE_TYPES, severity=severity)


def suppressed(item: pytest.Item, result: InstanceResult) -> InstanceResult:
    """The result with the item's suppressions applied; the markers' entries are recorded for the controller."""
    entries = item_suppressions(item)
    markers = marker_suppressions(item)
    if markers:
        record_fact(item, "expected_drift", [e.to_json() for e in markers])
    return dataclasses.replace(result, findings=apply_suppressions(result.findings, entries, today=today_utc()))
