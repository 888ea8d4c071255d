"""The dependency-aware xdist scheduler: dependency order, critical path first, group caps, isolation.

Enabled by default when xdist runs with `-n` and no `--dist` was given (on the command line, in
PYTEST_ADDOPTS or in addopts); any `--dist` (e.g. `--dist load`) opts out. Implements xdist's
scheduling protocol (`xdist/scheduler/protocol.py`, tested against pytest-xdist 3.6-3.8).

The constraint that shapes it: an xdist worker starts item i only once it has received the next
index (or a shutdown), because it passes `nextitem` to pytest for fixture teardown. A scheduler
that sends an item only when its dependencies are complete therefore hangs as soon as a worker's
single queued item is the dependency everything else waits for. So dispatch and permission are
separated:

* dispatch: a worker always gets a *next* item while work remains. Ready items (dependencies
  complete) go first, best critical-path priority first, preferring groups under their cap; when
  none is ready, an *early* item (every dependency already dispatched) goes, preferring one whose
  unfinished dependencies sit on that same worker. In a DAG such an item always exists while items
  remain undispatched, and workers run FIFO, so every item waits only for items dispatched before
  it: no deadlock. With no undispatched item left a worker gets a shutdown (then runs its last item
  with nextitem=None, as with `--dist load`). Fast, ready, uncapped items are queued deeper (up to
  about 0.1 s of work) so trivial items do not pay a round trip each.
* permission: a *gated* item (it has dependencies, or its group has a cap) waits in its setup for
  a permit file from the controller (`harness.plugin.channel`). The controller writes it when the
  dependencies are complete -- "run", or a skip reason naming the root cause -- and, for capped
  items, only when the item is at the head of its worker and its group is under the cap, so the
  cap holds for items actually running.

Why files for permits: the controller cannot add data to xdist's `runtests` command, and the
worker's command handler ignores unknown commands; a run directory shared with local workers is
the smallest channel that needs no xdist internals. The worker learns nothing else: the
controller, which sees every report, alone decides.

Crashes: the dead worker's item is reported by xdist as failed (an error for isolation). Its
queued items go back, but not to any worker: items dispatched after them may already depend on
them, so they keep their original order and go, first, to a worker with an empty queue (normally
the replacement); then every wait still points to an item dispatched earlier. `-x`/`--maxfail`, a worker that
stops early, or too many crashes put the run into *stopping*: nothing more is dispatched, gated
items still waiting are skipped ("not run: ..."), and after the loop every item that never ran is
reported as skipped with the reason.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.dispatch import DONE, READY, RUNNING, WAITING, Dispatch
from harness.plugin.channel import WORKERINPUT_KEY, Channel
from harness.plugin.isolation import ItemOutcomes, not_run_report
from harness.plugin.plan import ItemPlan

log = logging.getLogger(__name__)

MAX_DEPTH = 512          # most items queued on one worker (ready, uncapped ones only beyond 2)
QUEUED_SECONDS = 0.1     # aim for this much queued work per worker when items are fast


def user_chose_dist(config: pytest.Config) -> bool:
    """True when `--dist` (or `-d`) was given anywhere: the user picked xdist's own scheduling."""
    early = getattr(config, "known_args_namespace", None)
    if getattr(early, "distload", False) or getattr(early, "dist", "no") != "no":
        return True
    args = [*config.invocation_params.args, *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
            *config.getini("addopts")]
    return any(arg in ("--dist", "-d", "--distload") or arg.startswith("--dist=") for arg in args)


def scheduler_enabled(config: pytest.Config) -> bool:
    """The controller of an `-n` run with local workers and no `--dist` of the user's."""
    if hasattr(config, "workerinput") or config.getoption("collectonly", False):
        return False
    if not getattr(config.option, "numprocesses", None) or getattr(config.option, "dist", "no") != "load":
        return False
    specs = config.getoption("tx", None) or []
    return all(str(spec).startswith("popen") for spec in specs) and not user_chose_dist(config)


class DependencyScheduling:
    """xdist's scheduling protocol over the item plan (see the module docstring)."""

    def __init__(self, channel: Channel, *, config: pytest.Config | None = None, log_producer: Any = None) -> None:
        self.config = config
        self.channel = channel
        self.log = log_producer.dependencysched if log_producer is not None else (lambda *a: None)
        self.node2collection: dict[Any, list[str]] = {}
        self.node2pending: dict[Any, list[int]] = {}
        self.collection: list[str] | None = None
        self.plan: ItemPlan | None = None
        self.dispatch: Dispatch[int] | None = None
        self.outcomes: ItemOutcomes | None = None
        self.index: dict[str, int] = {}
        self.node_of: dict[int, Any] = {}
        self.awaiting: set[int] = set()          # dispatched gated items without a permit yet
        self.capped_running: Counter[str] = Counter()
        self.capped_permits: set[int] = set()
        self.limbo: set[int] = set()             # crashed items awaiting xdist's crash report
        self.lane: list[int] = []                # requeued items, in their first dispatch order
        self.sequence: dict[int, int] = {}       # index -> when it was first dispatched
        self.stopping: str | None = None
        self.average_duration: float | None = None
        # Workers whose channel broke (a crash xdist has not reported yet): nothing more goes to
        # them; what they hold is requeued when xdist removes them.
        self.gone: set[Any] = set()

    # -- protocol: properties ---------------------------------------------------------------------
    @property
    def nodes(self) -> list[Any]:
        return list(self.node2pending)

    @property
    def collection_is_completed(self) -> bool:
        """True from the first worker's collection on: dispatch starts there, and each other worker
        joins once its collection has arrived and matches (xdist calls `schedule()` again for it)."""
        return bool(self.node2collection)

    @property
    def undispatched(self) -> int:
        if self.dispatch is None:
            return 0
        return self.dispatch.count(WAITING) + self.dispatch.count(READY)   # the lane included

    @property
    def tests_finished(self) -> bool:
        if not self.collection_is_completed:
            return False
        if self.collection is None:
            return True            # the workers' collections differ: xdist aborts the run
        if self.limbo:
            return False
        if self.undispatched and not self.stopping:
            return False
        return all(len(pending) < 2 for pending in self.node2pending.values())

    @property
    def has_pending(self) -> bool:
        return bool(self.undispatched) or any(self.node2pending.values())

    # -- protocol: nodes and collections ----------------------------------------------------------
    def add_node(self, node: Any) -> None:
        assert node not in self.node2pending
        self.node2pending[node] = []

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        from xdist.report import report_collection_diff

        assert node in self.node2pending
        if self.collection is not None and list(collection) != self.collection:
            other = next(iter(self.node2collection))
            message = report_collection_diff(self.collection, collection, other.gateway.id, node.gateway.id)
            self.log(message)
            if self.config is not None:   # the node gets no items; the run fails with this collection error
                self.config.hook.pytest_collectreport(report=pytest.CollectReport(
                    nodeid=node.gateway.id, outcome="failed", longrepr=message, result=[]))
            return
        self.node2collection[node] = list(collection)

    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is not None:
            self._fill()
            return
        if not self._same_collections():
            self.log("**Different tests collected, aborting run**")
            return
        first = next(iter(self.node2collection))
        self.collection = self.node2collection[first]
        self.plan = self._read_plan(first.gateway.id, self.collection)
        self.dispatch = self.plan.dispatch()
        self.outcomes = ItemOutcomes(self.plan)
        self.index = {nodeid: n for n, nodeid in enumerate(self.collection)}
        self._fill()

    def remove_node(self, node: Any) -> str | None:
        """A worker is gone: when it crashed, its running item waits for xdist's crash report and the
        items queued behind it go back to the queue."""
        pending = self.node2pending.pop(node)
        self.gone.discard(node)
        if not pending:
            return None
        assert self.collection is not None and self.dispatch is not None
        crashed, *queued = pending
        for index in queued:
            self._requeue(index)
        self.limbo.add(crashed)
        self.node_of.pop(crashed, None)
        self._fill()
        return self.collection[crashed]

    # -- protocol: progress -----------------------------------------------------------------------
    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        self.node2pending[node].remove(item_index)
        self.average_duration = duration if self.average_duration is None else \
            0.8 * self.average_duration + 0.2 * duration
        self._complete(item_index)

    def mark_test_pending(self, item: str) -> None:
        """Run a crashed item again (asked by a rerun plugin from `pytest_handlecrashitem`)."""
        index = self.index[item]
        self.limbo.discard(index)
        self._requeue(index)
        self._fill()

    def remove_pending_tests_from_node(self, node: Any, indices: Sequence[int]) -> None:
        raise NotImplementedError("the dependency scheduler never steals items")

    # -- events forwarded by the controller plugin ------------------------------------------------
    def report(self, report: pytest.TestReport) -> None:
        """A report reached the controller (from a worker, or xdist's report of a crashed item)."""
        index = self.index.get(report.nodeid)
        if index is None or self.outcomes is None:
            return
        self.outcomes.add(index, report)
        if index in self.limbo and report.failed:
            self.limbo.discard(index)
            self._complete(index)

    def stop(self, reason: str) -> None:
        """Dispatch nothing more; gated items still waiting are skipped with `reason`."""
        if self.stopping is None:
            self.stopping = reason
            self.channel.stop(reason)
            self._fill()

    def unreported(self) -> list[int]:
        """Items without any report (after the loop: those that never ran)."""
        if self.outcomes is None:
            return []
        return [n for n in range(len(self.outcomes.plan)) if not self.outcomes.reported(n)]

    # -- internals --------------------------------------------------------------------------------
    def _same_collections(self) -> bool:
        from xdist.report import report_collection_diff

        (first_node, first), *others = self.node2collection.items()
        same = True
        for node, collection in others:
            message = report_collection_diff(first, collection, first_node.gateway.id, node.gateway.id)
            if message:
                same = False
                self.log(message)
                if self.config is not None:
                    self.config.hook.pytest_collectreport(report=pytest.CollectReport(
                        nodeid=node.gateway.id, outcome="failed", longrepr=message, result=[]))
        return same

    def _read_plan(self, worker: str, collection: list[str]) -> ItemPlan:
        data = self.channel.read_plan(worker)
        plan = ItemPlan.from_json(data) if data is not None else None
        if plan is None or list(plan.nodeids) != collection:
            # Never expected (the worker writes it before announcing its collection); without it the
            # items still all run, in collection order and without isolation.
            log.warning("stackharness: no item plan from worker %s; scheduling without dependencies", worker)
            n = len(collection)
            plan = ItemPlan(tuple(collection), (None,) * n, ((),) * n, (1.0,) * n, (None,) * n, (False,) * n)
        return plan

    def _requeue(self, index: int) -> None:
        assert self.dispatch is not None
        self.node_of.pop(index, None)
        self.awaiting.discard(index)
        self._release_cap(index)
        self.dispatch.requeue(index)
        self.lane.append(index)
        self.lane.sort(key=self.sequence.__getitem__)

    def _release_cap(self, index: int) -> None:
        if index in self.capped_permits:
            self.capped_permits.discard(index)
            group = self.plan.groups[index] if self.plan else None
            if group is not None:
                self.capped_running[group] -= 1

    def _complete(self, index: int) -> None:
        assert self.dispatch is not None
        self.node_of.pop(index, None)
        self.awaiting.discard(index)
        self._release_cap(index)
        self.dispatch.finish(index)
        self._fill()

    def _depth(self) -> int:
        if not self.average_duration:
            return 2
        return max(2, min(MAX_DEPTH, int(QUEUED_SECONDS / self.average_duration) + 1))

    def _choose(self, node: Any, *, extra: bool) -> int | None:
        """The next index for `node`, or None. `extra`: beyond the two items a worker needs."""
        assert self.dispatch is not None and self.plan is not None
        dispatch, plan = self.dispatch, self.plan
        lane = set(self.lane)

        def fresh(index: int) -> bool:
            return index not in lane

        if extra:
            taken = dispatch.take(1, accept=lambda i: fresh(i) and not plan.capped(i))
            return taken[0] if taken else None
        taken = dispatch.take(1, accept=fresh) or dispatch.take(1, admit=False, accept=fresh)
        if taken:
            return taken[0]
        if not self.node2pending[node]:
            return None    # an idle worker blocks nothing: it waits for a ready item
        mine = set(self.node2pending[node])
        early = dispatch.early(1, accept=fresh, prefer=lambda i: all(
            dispatch.state(d) == DONE or d in mine for d in plan.dependencies[i]))
        return early[0] if early else None

    def _fill(self) -> None:
        """Give every worker what it needs: first a running item and its next, then (fast items)
        more ready ones; shut down workers that will get nothing more."""
        if self.dispatch is None or self.plan is None:
            return
        sent: dict[Any, list[int]] = {}
        if not self.stopping:
            if self.lane:   # requeued items: all of them, in order, at the head of an empty queue
                node = next((n for n, p in self.node2pending.items()
                             if not p and self._open(n) and n in self.node2collection), None)
                if node is not None:
                    for index in self.lane:
                        self._assign(node, index, sent)
                    self.lane.clear()
            for extra, want in ((False, lambda _: 2), (True, lambda _: self._depth())):
                progress = True
                while progress:
                    progress = False
                    for node in sorted(self.node2pending, key=lambda n: len(self.node2pending[n])):
                        pending = self.node2pending[node]
                        if not self._open(node) or len(pending) >= want(node) or node not in self.node2collection:
                            continue
                        if extra and len(pending) > self._depth() // 2 and not sent.get(node):
                            continue   # refill in batches, not one index per completion
                        index = self._choose(node, extra=extra)
                        if index is None:
                            continue
                        self._assign(node, index, sent)
                        progress = True
        self._grant()
        for node, indices in sent.items():
            self._send(node, node.send_runtest_some, indices)
        if not self.undispatched or self.stopping:
            # The shutdown is queued behind the node's items: it runs them, the last with nextitem=None.
            for node in self.node2pending:
                if self._open(node):
                    self._send(node, node.shutdown)

    def _open(self, node: Any) -> bool:
        """True while a worker takes commands (not shutting down, channel not broken)."""
        return not node.shutting_down and node not in self.gone

    def _send(self, node: Any, command: Any, *args: Any) -> None:
        """Send a command to a worker; a broken channel means it crashed and xdist will remove it."""
        try:
            command(*args)
        except (OSError, EOFError) as exc:
            self.gone.add(node)
            self.log(f"worker {node.gateway.id} is gone ({exc}); its items are requeued when it is removed")

    def _assign(self, node: Any, index: int, sent: dict[Any, list[int]]) -> None:
        assert self.dispatch is not None and self.plan is not None
        if self.dispatch.state(index) != RUNNING:
            self.dispatch.start(index)
        self.node2pending[node].append(index)
        self.node_of[index] = node
        self.sequence.setdefault(index, len(self.sequence))
        sent.setdefault(node, []).append(index)
        if self.plan.gated(index):
            self.awaiting.add(index)

    def _grant(self) -> None:
        """Write the permits that can be written now (see the module docstring)."""
        assert self.dispatch is not None and self.plan is not None and self.outcomes is not None
        dispatch, plan, outcomes = self.dispatch, self.plan, self.outcomes
        for index in sorted(self.awaiting, key=lambda i: (-plan.priority[i], i)):
            if any(dispatch.state(d) != DONE for d in plan.dependencies[index]):
                continue
            verdict = outcomes.verdict(index)
            if verdict is not None:
                outcomes.decide(index, verdict)
                self.channel.permit(index, verdict.message)
            elif self.stopping:
                continue           # the worker skips it: "not run: <why the run stops>"
            elif plan.capped(index):
                group = plan.groups[index]
                node = self.node_of.get(index)
                head = node is not None and self.node2pending.get(node, [None])[0] == index
                if not head or self.capped_running[group] >= plan.caps[group]:  # type: ignore[index]
                    continue
                self.capped_running[group] += 1  # type: ignore[index]
                self.capped_permits.add(index)
                self.channel.permit(index)
            else:
                self.channel.permit(index)
            self.awaiting.discard(index)


class SchedulerControl:
    """Controller-side plugin: owns the run directory, tells workers where it is, makes the
    scheduler, feeds it reports and node failures, and reports items that never ran."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.channel = Channel.create()
        self.scheduler: DependencyScheduling | None = None
        self.session: pytest.Session | None = None
        self.crashes = 0

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKERINPUT_KEY] = str(self.channel.root)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> DependencyScheduling:
        self.scheduler = DependencyScheduling(self.channel, config=config, log_producer=log)
        return self.scheduler

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.scheduler is None:
            return
        self.scheduler.report(report)
        session = self.session
        if session is not None and (session.shouldfail or session.shouldstop):
            self.scheduler.stop(str(session.shouldfail or session.shouldstop))

    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        scheduler = self.scheduler
        if scheduler is None:
            return
        if error is not None:
            from xdist.dsession import get_default_max_worker_restart

            self.crashes += 1
            limit = get_default_max_worker_restart(self.config)
            if limit is not None and self.crashes > limit:
                scheduler.stop(f"worker {node.gateway.id} crashed and no more workers will be started")
        elif scheduler.node2pending.get(node):
            output = getattr(node, "workeroutput", {}) or {}
            scheduler.stop(str(output.get("shouldfail") or output.get("shouldstop")
                               or f"worker {node.gateway.id} stopped early"))

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        if self.scheduler is not None:
            self.scheduler.stop("interrupted")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        try:
            return (yield)
        finally:
            self._report_never_ran(session)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.channel.remove()

    def _report_never_ran(self, session: pytest.Session) -> None:
        scheduler = self.scheduler
        if scheduler is None or scheduler.plan is None:
            return
        plan = scheduler.plan
        reason = scheduler.stopping or session.shouldfail or session.shouldstop
        for index in scheduler.unreported():
            if reason:
                report = not_run_report(plan.nodeids[index], plan.instances[index], f"not run: {reason}")
            else:   # every item must end somewhere, and never as a pass
                report = not_run_report(plan.nodeids[index], plan.instances[index],
                                        "not run: the dependency scheduler never dispatched it (a bug: "
                                        "please report it; run with --dist load meanwhile)", error=True)
            self.config.hook.pytest_runtest_logreport(report=report)


def register(config: pytest.Config) -> None:
    """Register the scheduling and isolation plugins this process needs."""
    from harness.plugin.isolation import InProcessIsolation, ItemOrder, WorkerGate
    from harness.plugin.plan import MARKER_HELP

    config.addinivalue_line("markers", MARKER_HELP)
    manager = config.pluginmanager
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        channel_dir = workerinput.get(WORKERINPUT_KEY)
        plugin: object = WorkerGate(config, Channel(Path(channel_dir))) if channel_dir else ItemOrder(config)
        manager.register(plugin, "stackharness-items")
    elif scheduler_enabled(config):
        manager.register(SchedulerControl(config), "stackharness-scheduler")
    elif not getattr(config.option, "numprocesses", None):
        manager.register(InProcessIsolation(config), "stackharness-items")

