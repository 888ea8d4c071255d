"""JUnit XML (pytest's `--junitxml`): each stackharness item carries its instance id and finding counts.

They are `user_properties`, which pytest writes as `<property>` elements of the test case and
xdist carries from the workers; they are added before the teardown report, the one pytest's
JUnit writer reads them from.
"""

from __future__ import annotations

import pytest

from harness.drift.findings import InstanceResult
from harness.drift.summary import summarise
from harness.plugin.transport import FACTS_KEY, item_instance

COUNTS = ("changed", "missing", "unmanaged", "suppressed", "errors")


def junit_properties(item: pytest.Item) -> list[tuple[str, str | int]]:
    """`instance`, and for drift items `drift_changed`, `drift_missing`, ... (counts as in drift.json)."""
    instance = item_instance(item)
    if instance is None:
        return []
    properties: list[tuple[str, str | int]] = [("instance", instance)]
    drift = item.stash.get(FACTS_KEY, {}).get("drift")
    if drift:
        counts = summarise([InstanceResult.from_json(drift)], instances=1)
        properties += [(f"drift_{key}", int(counts[key])) for key in COUNTS]
    return properties


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    known = {name for name, _ in item.user_properties}
    item.user_properties.extend(p for p in junit_properties(item) if p[0] not in known)
