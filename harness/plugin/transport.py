"""Per-item facts travel from xdist workers to the controller on the test reports themselves.

A fact is a JSON-serialisable dict stored on the item (`record_fact`) and copied onto the item's
reports as the `stackharness` attribute; xdist serialises report attributes, so the controller
receives them in `pytest_runtest_logreport` and alone writes drift.json and the reports.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pytest

FACTS_KEY = pytest.StashKey[dict[str, Any]]()
REPORT_ATTR = "stackharness"


def record_fact(item: pytest.Item, kind: str, value: Any) -> None:
    """Attach a fact (e.g. kind `drift` with an InstanceResult as JSON) to an item's reports."""
    item.stash.setdefault(FACTS_KEY, {})[kind] = value


def item_instance(item: pytest.Item) -> str | None:
    """The instance id an item is parametrized with (`component`); else the id of its
    `credential_scope` or `unmanaged_scope` (`<account>/<region>`), if any."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for name in ("component", "credential_scope", "unmanaged_scope"):
        if name in callspec.params:
            return getattr(callspec.params[name], "id", None)
    return None


def attach(item: pytest.Item, report: pytest.TestReport, *, worker: str,
           api_calls: dict[str, Any] | None = None) -> None:
    """Copy the item's instance id and facts onto a report.

    The process's cumulative API meter snapshot rides on teardown reports only: the controller
    keeps the latest snapshot per worker, so nothing is counted twice.
    """
    instance = item_instance(item)
    if instance is None:
        return
    data: dict[str, Any] = {"instance": instance, "suite": getattr(item, "originalname", item.name),
                            "facts": dict(item.stash.get(FACTS_KEY, {})), "worker": worker}
    if report.when == "teardown" and api_calls is not None:
        data["api_calls"] = api_calls
    setattr(report, REPORT_ATTR, data)


def payload(report: pytest.TestReport) -> dict[str, Any] | None:
    """The stackharness payload of a report, or None."""
    return getattr(report, REPORT_ATTR, None)


def crash_payload(report: pytest.TestReport, instance_ids: Collection[str]) -> dict[str, Any] | None:
    """A payload for xdist's report of an item whose worker crashed (it carries none), when the item
    checks one of `instance_ids`: `test_drift[vpc@prod]` -> instance `vpc@prod`, suite `test_drift`.

    So the item is counted (as an error), never silently dropped from drift.json.
    """
    if not report.failed or payload(report) is not None:
        return None
    name = report.nodeid.rsplit("::", 1)[-1]
    suite, bracket, param = name.partition("[")
    param = param.removesuffix("]") if bracket else ""
    # Other parameters join the id with "-" (`test_x[vpc@prod-1]`); ids may contain "-" themselves.
    matches = [i for i in instance_ids if param == i or param.startswith(i + "-") or param.endswith("-" + i)
               or f"-{i}-" in param]
    if not matches:
        return None
    node = getattr(report, "node", None)
    worker = getattr(getattr(node, "gateway", None), "id", None) or "controller"
    return {"instance": max(matches, key=len), "suite": suite, "facts": {}, "worker": worker, "crashed": True}
