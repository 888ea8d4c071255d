"""Failure isolation: the dependents of a broken item are skipped, naming the root cause.

An item *isolates* its dependents (the items of the same suite whose instance depends on its
instance) when it ends in an error — it could not be evaluated, a fixture or teardown failed, its
worker crashed — or, in suites marked `@pytest.mark.skip_dependents_on("failure")`, when it fails.
The dependents are skipped (never failed) with `dependency vpc@prod failed: <message>`, and their
own dependents with `dependency subnet@prod skipped (root cause: vpc@prod failed)`.

Where the skip is decided:
* in one process (no xdist): items run in dependency order and each item's setup looks at the
  outcomes of its dependencies, already known (`InProcessIsolation`);
* under the dependency scheduler: the controller, which sees every report, writes each gated
  item's permit (run, or a skip reason) once its dependencies are complete; the worker waits for it
  in the item's setup and skips there (`WorkerGate`), so allure and JUnit record a real skip.

Drift is a failure, so by default it isolates nothing: the drift suite's dependents still run, and
each finding carries `upstream_drift`, the dependencies (direct and transitive) that drifted too
(`with_upstream_drift`, filled in by the controller when it writes drift.json).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from harness.dispatch import Outcome, blocked_by
from harness.plugin.channel import Channel
from harness.plugin.plan import ItemPlan, build_plan, in_dependency_order, item_instance
from harness.plugin.transport import REPORT_ATTR

if TYPE_CHECKING:
    from harness.drift.findings import InstanceResult
    from harness.graph import DependencyGraph

SEVERITY = {"ok": 0, "skipped": 1, "failed": 2, "error": 3}


# -- outcomes ---------------------------------------------------------------------------------------
def report_status(report: pytest.TestReport) -> tuple[str, str]:
    """(status, message) of one report: ok, skipped, failed (the test itself) or error (anything else)."""
    if report.failed:
        return ("failed" if report.when == "call" else "error"), report_message(report)
    if report.skipped and not hasattr(report, "wasxfail"):
        return "skipped", report_message(report)
    return "ok", ""


def report_message(report: pytest.TestReport) -> str:
    """The first line that says what happened: a skip reason, the exception's message, or the text."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    text = str(crash.message) if crash is not None else str(longrepr)
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class ItemOutcomes:
    """Each item's outcome, from its reports (worst phase wins) or from the skip decided for it."""

    def __init__(self, plan: ItemPlan) -> None:
        self.plan = plan
        self._status: dict[int, tuple[str, str]] = {}
        self._decided: dict[int, Outcome] = {}

    def add(self, index: int, report: pytest.TestReport) -> None:
        status, message = report_status(report)
        previous = self._status.get(index)
        if previous is None or SEVERITY[status] > SEVERITY[previous[0]]:
            self._status[index] = (status, message)

    def reported(self, index: int) -> bool:
        return index in self._status

    def decide(self, index: int, outcome: Outcome) -> None:
        """Remember the skip decided for an item (its outcome, whatever its report says)."""
        self._decided[index] = outcome

    def outcome(self, index: int) -> Outcome:
        if index in self._decided:
            return self._decided[index]
        status, message = self._status.get(index, ("ok", ""))
        isolating = status == "error" or (status == "failed" and self.plan.isolate_on_failure[index])
        return Outcome(status, message, isolating=isolating)

    def verdict(self, index: int) -> Outcome | None:
        """The skip outcome for item `index` given its dependencies' outcomes, or None to run it."""
        plan = self.plan
        return blocked_by((plan.instances[d] or plan.nodeids[d], self.outcome(d)) for d in plan.dependencies[index])


def skip_item(reason: str) -> None:
    """Skip the current item from a setup hook, reported at the item's location."""
    raise pytest.skip.Exception(reason, _use_item_location=True)


def not_run_report(nodeid: str, instance: str | None, reason: str, *, error: bool = False) -> pytest.TestReport:
    """A report for an item that never ran (a skip; an error when it should have run)."""
    path, _, rest = nodeid.partition("::")
    longrepr: Any = reason if error else (path, None, f"Skipped: {reason}")
    report = pytest.TestReport(nodeid=nodeid, location=(path, None, rest), keywords={},
                               outcome="failed" if error else "skipped", longrepr=longrepr, when="setup")
    if instance is not None:   # so the controller's collector counts it (never as clean)
        suite = rest.rsplit("::", 1)[-1].split("[", 1)[0]
        setattr(report, REPORT_ATTR, {"instance": instance, "suite": suite, "facts": {}, "worker": "controller"})
    return report


# -- the plan of this process's items ---------------------------------------------------------------
def plan_for(config: pytest.Config, items: Sequence[pytest.Item]) -> ItemPlan:
    """The item plan of `items`; the stack set and graph are only loaded when an item checks an instance."""
    if not any(item_instance(item) for item in items):
        return build_plan(items, None, None)
    from harness.graph import ConcurrencyLimits
    from harness.plugin.session import harness_session

    session = harness_session(config)
    return build_plan(items, session.graph, ConcurrencyLimits.from_profiles(session.graph, session.config))


class ItemOrder:
    """Every process that collects sorts each suite's items into dependency order (deterministic, so
    every xdist worker has the same collection) and keeps the plan of the final order."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.plan: ItemPlan | None = None
        self.index: dict[str, int] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if any(item_instance(item) for item in items):
            items[:] = in_dependency_order(items, plan_for(config, items))

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.plan = plan_for(self.config, session.items)
        self.index = {nodeid: n for n, nodeid in enumerate(self.plan.nodeids)}


class InProcessIsolation(ItemOrder):
    """Without xdist: an item whose dependency broke is skipped in its setup; after `-x`/`--maxfail`,
    the instance items that never ran are reported as skipped with the reason."""

    def __init__(self, config: pytest.Config) -> None:
        super().__init__(config)
        self.outcomes: ItemOutcomes | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        super().pytest_collection_finish(session)
        assert self.plan is not None
        self.outcomes = ItemOutcomes(self.plan)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        index = self.index.get(item.nodeid)
        if index is None or self.outcomes is None or not self.outcomes.plan.dependencies[index]:
            return
        verdict = self.outcomes.verdict(index)
        if verdict is not None:
            self.outcomes.decide(index, verdict)
            skip_item(verdict.message)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        index = self.index.get(report.nodeid)
        if index is not None and self.outcomes is not None:
            self.outcomes.add(index, report)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        try:
            return (yield)
        finally:
            reason = session.shouldfail or session.shouldstop
            if reason and self.outcomes is not None:
                plan, outcomes = self.outcomes.plan, self.outcomes
                for index in range(len(plan)):
                    if plan.instances[index] is not None and not outcomes.reported(index):
                        self.config.hook.pytest_runtest_logreport(
                            report=not_run_report(plan.nodeids[index], plan.instances[index], f"not run: {reason}"))


class WorkerGate(ItemOrder):
    """On an xdist worker under the dependency scheduler: publish the plan for the controller, and
    hold each gated item in its setup until the controller's permit says run or skip."""

    def __init__(self, config: pytest.Config, channel: Channel) -> None:
        super().__init__(config)
        self.channel = channel
        self.worker = config.workerinput["workerid"]  # type: ignore[attr-defined]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        super().pytest_collection_finish(session)
        assert self.plan is not None
        # Runs before xdist announces the collection, so the file is there when the controller looks.
        self.channel.write_plan(self.worker, self.plan.to_json())

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        index = self.index.get(item.nodeid)
        if index is None or self.plan is None or not self.plan.gated(index):
            return
        run, reason = self.channel.wait_permit(index)
        if not run:
            skip_item(reason)


# -- drift ------------------------------------------------------------------------------------------
def with_upstream_drift(results: Iterable[InstanceResult], graph: DependencyGraph) -> list[InstanceResult]:
    """The results with each finding's `upstream_drift`: the instance's dependencies, direct and
    transitive, that have unsuppressed drift in this run (sorted)."""
    results = list(results)
    drifted = {r.instance for r in results if r.drifted}
    out = []
    for result in results:
        upstream: tuple[str, ...] = ()
        if drifted and result.instance in graph:
            upstream = tuple(d for d in graph.dependencies(result.instance, transitive=True) if d in drifted)
        if upstream and result.findings:
            findings = tuple(dataclasses.replace(f, upstream_drift=upstream) for f in result.findings)
            result = dataclasses.replace(result, findings=findings)
        out.append(result)
    return out
