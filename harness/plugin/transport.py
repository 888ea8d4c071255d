"""Per-item facts travel from xdist workers to the controller on the test reports themselves.

A fact is a JSON-serialisable dict stored on the item (`record_fact`) and copied onto the item's
reports as the `stackharness` attribute; xdist serialises report attributes, so the controller
receives them in `pytest_runtest_logreport` and alone writes drift.json and the reports.
"""

from __future__ import annotations

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
