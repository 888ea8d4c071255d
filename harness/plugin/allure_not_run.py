"""Allure results for items that never ran (after `-x`/`--maxfail`), written by the controller.

allure-pytest writes a result only for an item a process ran; the reports the controller makes for
the others (`isolation.not_run_report`) reach JUnit and drift.json but not Allure. This writes one
result per such item: status skipped (broken when it should have run), the reason, and the labels
a worker gives a stackharness item (no `tag`s: those need the state the item never read).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from harness.plugin.transport import REPORT_ATTR


class NotRunResults:
    """Controller plugin: an Allure result for each not-run report of a stackharness item."""

    def __init__(self, config: pytest.Config, folder: Path) -> None:
        self.config, self.folder = config, folder

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTR, None)
        if not data or data.get("worker") != "controller" or report.when != "setup":
            return
        from allure_commons.logger import AllureFileLogger

        AllureFileLogger(self.folder).report_result(self.result(report, data))

    def result(self, report: pytest.TestReport, data: dict[str, Any]) -> Any:
        """The allure-pytest shape of the item's result (name, fullName, historyId, labels)."""
        from allure_commons.model2 import Label, Parameter, Status, StatusDetails, TestResult
        from allure_commons.utils import host_tag, md5, now, platform_label, uuid4
        from allure_pytest.utils import ParsedPytestNodeId

        from harness.plugin.allure_labels import instance_labels
        from harness.plugin.session import harness_session

        nodeid = ParsedPytestNodeId(report.nodeid)
        full_name = f"{nodeid.package}{''.join('.' + c for c in nodeid.class_names)}#{nodeid.test_function}"
        harness = harness_session(self.config)
        instance = next((i for i in harness.stack_set.instances if i.id == data["instance"]), None)
        message = harness.redactor.redact(_message(report))
        stamp = now()
        result = TestResult(uuid=uuid4(), name=report.nodeid.rsplit("::", 1)[-1], fullName=full_name,
                            testCaseId=md5(full_name), titlePath=[*nodeid.path_segments, *nodeid.class_names],
                            start=stamp, stop=stamp, stage="finished",
                            status=Status.SKIPPED if report.skipped else Status.BROKEN,
                            statusDetails=StatusDetails(message=message))
        if instance is not None:
            # allure-pytest's historyId: the full name and the parameter's value, so runs line up
            result.historyId = md5(full_name, instance)
            result.parameters = [Parameter(name="component", value=instance.id)]
            labels = instance_labels(instance, data["suite"], harness)
        else:
            result.historyId = md5(full_name, data["instance"])
            labels = []
        labels += [("host", host_tag()), ("thread", f"controller-{threading.get_ident()}"),
                   ("framework", "pytest"), ("language", platform_label()), ("package", nodeid.package)]
        result.labels = [Label(name=name, value=value) for name, value in labels]
        return result


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):          # a skip: (path, line, "Skipped: reason")
        return str(longrepr[2])
    return str(longrepr)
