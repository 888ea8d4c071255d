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
    """The instance id an item is parametrized with (`component`; else a `credential_scope` id), if any."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for name in ("component", "credential_scope"):
        if name in callspec.params:
            return getattr(callspec.params[name], "id", None)
    return None


def attach(item: pytest.Item, report: pytest.TestReport) -> None:
    """Copy the item's instance id and facts onto a report (and a few JUnit properties)."""
    instance = item_instance(item)
    if instance is None:
        return
    facts = item.stash.get(FACTS_KEY, {})
    setattr(report, REPORT_ATTR, {"instance": instance, "suite": item.originalname if hasattr(
        item, "originalname") else item.name, "facts": dict(facts)})


def payload(report: pytest.TestReport) -> dict[str, Any] | None:
    """The stackharness payload of a report, or None."""
    return getattr(report, REPORT_ATTR, None)
