"""The stackharness pytest plugin (registered through the `pytest11` entry point).

Thin hooks over the library: options, one item per component instance, fixtures, results
transported on reports, and the controller writing drift.json and the HTML report at the end.
In runs that use no stackharness fixture the plugin does nothing.
"""

from __future__ import annotations

import logging
import os

import pytest

from harness.drift.assertions import DriftFound
from harness.errors import HarnessError
from harness.log import Redactor
from harness.plugin.collector import RunCollector, utc_now
from harness.plugin.credentials import (  # noqa: F401  (credential fixtures)
    credential_checker,
    credential_scope,
    credential_scopes,
    instance_credentials,
    unmanaged_credentials,
)
from harness.plugin.fixtures import (  # noqa: F401  (fixtures are found by pytest through this module)
    EvaluationFailed,
    aws,
    component,
    drift_result,
    harness,
    harness_config,
    stack_set,
    tf_state,
)
from harness.plugin.logs import configure_logging
from harness.plugin.options import add_options
from harness.plugin.scheduler import register as register_scheduling
from harness.plugin.selection import add_selection_options
from harness.plugin.session import harness_session
from harness.plugin.state_fixtures import (  # noqa: F401
    _state_lock_marker,
    instance_locks,
    state_checks,
    state_lock,
)
from harness.plugin.suppression_fixtures import configure as configure_suppressions
from harness.plugin.suppression_fixtures import drift_suppressions  # noqa: F401
from harness.plugin.transport import attach
from harness.plugin.unmanaged import parametrize_unmanaged, unmanaged_result, unmanaged_scope  # noqa: F401
from harness.state.assertions import StateCheckFailed

MESSAGE_ONLY = (DriftFound, StateCheckFailed, EvaluationFailed, HarnessError)
# Report-side hooks live in their own modules: Allure labels/attachments, JUnit properties, --shard.
pytest_plugins = ["harness.plugin.allure_labels", "harness.plugin.junit", "harness.plugin.sharding"]

log = logging.getLogger(__name__)


def is_controller(config: pytest.Config) -> bool:
    """True in the process that writes reports: the xdist controller, or the only process."""
    return not hasattr(config, "workerinput")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_selection_options(parser)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "state_lock: hold the Terraform state lock of the instance during the test")
    configure_suppressions(config)
    if is_controller(config):
        config.pluginmanager.register(ControllerReports(config), "stackharness-controller")
    register_scheduling(config)
    configure_logging(config)      # redaction on pytest's log handlers; log_format: json


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "credential_scope" in metafunc.fixturenames:
        scopes = credential_scopes(metafunc.config)
        metafunc.parametrize("credential_scope", scopes, ids=[s.id for s in scopes], indirect=True)
    parametrize_unmanaged(metafunc)
    if "component" not in metafunc.fixturenames or _parametrizes_component_itself(metafunc):
        return
    params = harness_session(metafunc.config).parameters()
    metafunc.parametrize("component", params, ids=[p.id for p in params], indirect=True)


def _parametrizes_component_itself(metafunc: pytest.Metafunc) -> bool:
    """A test that parametrizes an argument called `component` itself is left alone."""
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if "component" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)):
            return True
    return False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    session = harness_session(item.config)
    attach(item, report, worker=os.environ.get("PYTEST_XDIST_WORKER", "main"),
           api_calls=session.api_snapshot() if report.when == "teardown" else None)
    if call.excinfo is not None and call.excinfo.errisinstance(MESSAGE_ONLY):
        # Drift and could-not-evaluate are findings about infrastructure, not bugs in test code:
        # the message (a table, or the reason) is the whole story.
        report.longrepr = str(call.excinfo.value)
    redact_report(report, session.redactor)
    return report


def redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """Mask secrets in what pytest prints and writes (terminal, JUnit): the failure text and captured output.

    A failure text that needed masking is kept as plain text (pytest's structured traceback cannot be
    masked in place); clean ones keep their formatting.
    """
    if report.longrepr is not None:
        text = str(report.longrepr)
        masked = redactor.redact(text)
        if masked != text:
            report.longrepr = masked
    report.sections = [(title, redactor.redact(content)) for title, content in report.sections]


class ControllerReports:
    """Registered only in the controller: gathers every report and writes the run's reports at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.collector = RunCollector()
        self.written: list[str] = []
        self._ids: set[str] | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add(report, instance_ids=self._instance_ids)

    def _instance_ids(self) -> set[str]:
        """The ids of the run's instance parameters (for crash reports, which carry no payload)."""
        if self._ids is None:
            try:
                self._ids = {p.id for p in harness_session(self.config).parameters()}
            except Exception as exc:  # the run's reports must still be written
                log.error("stackharness: cannot list the run's instances for a crash report: %s", exc)
                self._ids = set()
        return self._ids

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.collector.empty:
            return
        from harness.plugin.reporting import write_run_reports

        self.written = write_run_reports(harness_session(self.config), self.collector, finished=utc_now())

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.written:
            terminalreporter.write_sep("-", "stackharness")
            for line in self.written:
                terminalreporter.write_line(line)
