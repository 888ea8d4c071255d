"""Allure for stackharness items: labels on every item, findings attached on drift, run files at the end.

Switching it on: `--allure` writes allure-pytest results to `<report_dir>/allure-results` and
empties that folder's Allure files before the run; allure-pytest's own `--alluredir DIR` works too
(add `--clean-alluredir` to empty it first). Cleaning is done here, by the controller only and
before any worker starts — allure-pytest's own cleaning would run in every worker, and a worker
that xdist replaces after a crash would wipe the results of the others.

Per item (on the worker that runs it): labels `parent_suite` = environment type, `suite` = stack,
`sub_suite` = component, `feature` = suite name, `severity` = the profile's Allure severity, a
`tag` per resource type in the instance's state; on drift or evaluation errors a JSON attachment
of the findings and an HTML attachment of the diff table. Items that never ran (`-x`) get their
result from the controller (`allure_not_run`). At session end the controller writes
`environment.properties`, `executor.json` and `categories.json` (see `harness.report.allure`).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.plugin.transport import FACTS_KEY, item_instance
from harness.stacks.model import ComponentInstance

OPTION = "stackharness_allure"
ATTACHED = pytest.StashKey[bool]()


def results_dir(config: pytest.Config) -> Path | None:
    """The Allure results folder of this run, or None when Allure is off (or allure-pytest absent)."""
    value = getattr(config.option, "allure_report_dir", None)
    return Path(value).resolve() if value else None


def _label(name: str, value: str) -> pytest.MarkDecorator:
    """The marker allure-pytest turns into a label (what `allure.suite(...)` etc. produce)."""
    return pytest.mark.allure_label(value, label_type=name)


def item_labels(item: pytest.Item, session: Any) -> list[tuple[str, str]]:
    """(label, value) pairs for a stackharness item, from its parameter and the run's config."""
    param = item.callspec.params.get("component") if hasattr(item, "callspec") else None
    suite = getattr(item, "originalname", item.name)
    if param is None:
        return []
    if not isinstance(param, ComponentInstance):   # an unresolved item: its id names the file
        return [("parentSuite", "unresolved"), ("suite", str(param.id)), ("feature", suite),
                ("severity", "critical")]
    return instance_labels(param, suite, session)


def instance_labels(instance: ComponentInstance, suite: str, session: Any) -> list[tuple[str, str]]:
    """(label, value) pairs for an instance's item of `suite` (also for items that never ran)."""
    try:
        severity = session.config.profile_for(instance.environment_type).severity
    except HarnessError:                      # an undefined --profile errors the items themselves
        severity = "normal"
    return [("parentSuite", instance.environment_type or "no environment type"), ("suite", instance.stack),
            ("subSuite", instance.component), ("feature", suite), ("severity", severity)]


def resource_types(item: pytest.Item, session: Any) -> list[str]:
    """Resource types in the instance's state, when the item already read it (no extra AWS call)."""
    param = item.callspec.params.get("component") if hasattr(item, "callspec") else None
    state = session.cached_state(param) if isinstance(param, ComponentInstance) else None
    return sorted({r.type for r in state.managed_resources}) if state is not None else []


# -- hooks ---------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("stackharness").addoption(
        "--allure", dest=OPTION, action="store_true", default=False,
        help="write Allure results to <report_dir>/allure-results (emptied before the run)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before allure-pytest configures itself: set the default folder and clean it (controller only)."""
    if not hasattr(config.option, "allure_report_dir"):
        if config.getoption(OPTION):
            raise pytest.UsageError("stackharness: --allure needs the allure-pytest plugin, which is not loaded "
                                    "— drop `-p no:allure_pytest` or install allure-pytest")
        return
    clean = bool(getattr(config.option, "clean_alluredir", False))
    if config.getoption(OPTION) and not config.option.allure_report_dir:
        from harness.plugin.session import harness_session

        config.option.allure_report_dir = str(harness_session(config).config.report_dir / "allure-results")
        clean = True
    folder = results_dir(config)
    if folder is not None and clean and not hasattr(config, "workerinput") and not config.option.collectonly:
        from harness.report.allure import clean_results

        clean_results(folder)
    config.option.clean_alluredir = False     # never in allure-pytest, never in a worker
    if folder is not None and not hasattr(config, "workerinput"):
        from harness.plugin.allure_not_run import NotRunResults

        config.pluginmanager.register(NotRunResults(config, folder), "stackharness-allure-not-run")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if results_dir(config) is None:
        return
    from harness.plugin.session import harness_session

    harness = harness_session(config)
    for item in items:
        if item_instance(item) is None:
            continue
        for name, value in item_labels(item, harness):
            item.add_marker(_label(name, value))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Tags need the state, read by now; allure-pytest reads the markers after teardown."""
    if results_dir(item.config) is None or item_instance(item) is None:
        return
    from harness.plugin.session import harness_session

    for rtype in resource_types(item, harness_session(item.config)):
        item.add_marker(_label("tag", rtype))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if (results_dir(item.config) is not None and not item.stash.get(ATTACHED, False)
            and (call.when == "call" or (call.when == "setup" and call.excinfo is not None))):
        item.stash[ATTACHED] = True
        attach_findings(item)
    return report


def attach_findings(item: pytest.Item) -> None:
    """On drift or evaluation errors: the findings as JSON and the diff table as HTML."""
    drift = item.stash.get(FACTS_KEY, {}).get("drift")
    if not drift or not (drift.get("findings") or drift.get("errors")):
        return
    import allure

    from harness.plugin.session import harness_session
    from harness.report.diff_table import findings_table_html

    redactor = harness_session(item.config).redactor
    body = {"instance": drift["instance"], "findings": drift.get("findings", []), "errors": drift.get("errors", [])}
    allure.attach(redactor.redact(json.dumps(redactor.redact_obj(body), indent=2, default=str)),
                  name="findings.json", attachment_type=allure.attachment_type.JSON)
    html = findings_table_html(body["findings"], body["errors"], title=drift["instance"])
    allure.attach(redactor.redact_known(html), name="drift.html", attachment_type=allure.attachment_type.HTML)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    folder = results_dir(config)
    if folder is None or hasattr(config, "workerinput") or not _harness_items_ran(config):
        return
    from harness.plugin.session import harness_session
    from harness.plugin.sharding import shard_spec
    from harness.report.allure import write_run_files

    harness = harness_session(config)
    write_run_files(folder, run_properties(config, harness, shard=shard_spec(config)), redactor=harness.redactor)


def _harness_items_ran(config: pytest.Config) -> bool:
    controller = config.pluginmanager.get_plugin("stackharness-controller")
    return controller is not None and not controller.collector.empty


def run_properties(config: pytest.Config, harness: Any, *, shard: Any = None) -> dict[str, Any]:
    """`environment.properties`: where and how the run happened (no secrets: endpoints are redacted)."""
    from harness import __version__

    selection = {k: ",".join(v) for k, v in harness.selection.items() if v}
    workers = getattr(config.option, "numprocesses", None)
    return {
        "stackharness": __version__, "python": platform.python_version(), "platform": sys.platform,
        "stacks_repo": str(harness.config.stacks_repo), "aws_endpoint_url": harness.config.aws_endpoint_url or "",
        "selection": " ".join(f"{k}={v}" for k, v in selection.items()) or "all instances",
        "shard": str(shard) if shard else "", "workers": str(workers or 1),
        "profile": harness.config.profile or "", "ci": "true" if os.environ.get("CI") else "",
    }
