"""The dependency scheduler's protocol, driven by simulated xdist workers over many random plans.

The real xdist runs (tests/scheduler/test_xdist.py) take seconds each, so the scheduler's invariants
are checked here against a simulation of the worker loop of `xdist/remote.py` -- the one fake in
these tests, standing in for worker processes: a worker pops its first index, and starts item i
only once it holds the next index or a shutdown; a gated item then waits for its permit file
(the real `Channel`), runs for a while, and its reports and completion go to the scheduler as
xdist's controller would send them. Crashes follow `DSession.worker_errordown`: `remove_node`,
the crash report, a replacement worker.

Checked: the run always ends (no worker waits forever for a next index), dependencies finish
before their dependents start, group caps hold for running items, every item ends exactly once,
and the skips are exactly the dependents of isolating items, with the right root cause.
"""

from __future__ import annotations

import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.plugin.channel import Channel
from harness.plugin.plan import ItemPlan
from harness.plugin.scheduler import DependencyScheduling

SHUTDOWN = object()


class SimNode:
    """What the scheduler sees of a worker (`xdist.workermanage.WorkerController`)."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.queue: deque = deque()
        self.shutting_down = False
        self.broken = False          # the process died; xdist has not noticed yet

    def send_runtest_some(self, indices) -> None:
        assert not self.shutting_down, "items sent after shutdown would never run"
        if self.broken:
            raise OSError("cannot send (already closed?)")   # as execnet does on a dead worker
        self.queue.extend(indices)

    def shutdown(self) -> None:
        if self.broken:
            raise OSError("cannot send (already closed?)")
        if not self.shutting_down:
            self.shutting_down = True
            self.queue.append(SHUTDOWN)


@dataclass
class SimWorker:
    node: SimNode
    current: int | None = None       # popped, waiting for its next index, the gate, or running
    ends_at: float | None = None      # running until then
    skipped: bool = False
    done: bool = False


@dataclass
class Sim:
    plan: ItemPlan
    channel: Channel
    workers: int
    errors: set[int]                  # items that end in an error
    crash: int | None = None          # the item whose worker dies while running it
    late_crash_notice: bool = False   # xdist notices the crash only after another worker's event
    maxfail_after: int | None = None  # stop the run after this item fails (like -x)
    durations: dict[int, float] = field(default_factory=dict)
    log: list[tuple[str, int, float]] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)
    now: float = 0.0

    def run(self) -> DependencyScheduling:
        scheduler = DependencyScheduling(self.channel)
        self.channel.write_plan("gw0", self.plan.to_json())
        workers = [SimWorker(SimNode(f"gw{n}")) for n in range(self.workers)]
        for worker in workers:
            scheduler.add_node(worker.node)
        self.scheduler = scheduler
        for worker in workers:   # as DSession does: schedule() after each collection once one is complete
            scheduler.add_node_collection(worker.node, list(self.plan.nodeids))
            scheduler.schedule()
            self.advance(worker)
        spawned = len(workers)
        for _ in range(20000):
            moved = any([self.advance(w) for w in workers if not w.done])
            if scheduler.tests_finished:
                for node in scheduler.nodes:
                    node.shutdown()
            running = [w for w in workers if w.ends_at is not None and not w.done]
            if moved:
                continue
            if not running:
                assert all(w.done for w in workers), self.describe(workers)
                return scheduler
            worker = min(running, key=lambda w: (w.ends_at, w.node.gateway.id))
            self.now = worker.ends_at
            if self.crash is not None and worker.current == self.crash:
                if self.late_crash_notice and len(running) > 1:
                    # The pipe is broken now; another worker's completion reaches the controller first.
                    worker.node.broken = True
                    worker.ends_at = None
                    others = [w for w in running if w is not worker]
                    other = min(others, key=lambda w: (w.ends_at, w.node.gateway.id))
                    self.now = max(self.now, other.ends_at)
                    self.complete(other)
                self.crash_worker(worker)
                replacement = SimWorker(SimNode(f"gw{spawned}"))
                spawned += 1
                workers.append(replacement)
                scheduler.add_node(replacement.node)
                scheduler.add_node_collection(replacement.node, list(self.plan.nodeids))
                scheduler.schedule()
            else:
                self.complete(worker)
        raise AssertionError("the simulation did not end")

    def advance(self, worker: SimWorker) -> bool:
        """Everything a worker can do without time passing; True when it did something."""
        queue = worker.node.queue
        if worker.current is None:
            if not queue:
                return False
            head = queue.popleft()
            if head is SHUTDOWN:
                worker.done = True
                self.scheduler.remove_node(worker.node)
                return True
            worker.current = head
            return True
        if worker.ends_at is not None or not queue:
            return False                                    # running, or waiting for its next index
        index = worker.current
        if self.plan.gated(index):
            answer = self.channel.poll_permit(index)
            if answer is None:
                return False
            run, reason = answer
        else:
            run, reason = True, ""
        if run:
            self.log.append(("start", index, self.now))
            worker.ends_at = self.now + self.durations.get(index, 1.0)
            worker.skipped = False
        else:
            self.log.append(("skip", index, self.now))
            self.reasons[index] = reason
            self.report(index, "setup", "skipped", reason)
            worker.ends_at = self.now                      # skips take no time
            worker.skipped = True
        return True

    def complete(self, worker: SimWorker) -> None:
        index = worker.current
        if not worker.skipped:
            self.log.append(("end", index, self.now))
            if index in self.errors:
                self.report(index, "setup", "failed", f"cannot evaluate i{index}")
            else:
                self.report(index, "setup", "passed")
                self.report(index, "call", "passed")
            self.report(index, "teardown", "passed")
        worker.ends_at = None
        worker.current = None
        self.scheduler.mark_test_complete(worker.node, index, 0.01)
        if index in self.errors and self.maxfail_after == index:
            self.scheduler.stop("stopping after 1 failures")

    def crash_worker(self, worker: SimWorker) -> None:
        self.log.append(("crash", worker.current, self.now))
        worker.done = True
        nodeid = self.scheduler.remove_node(worker.node)
        assert nodeid == self.plan.nodeids[worker.current]
        report = pytest.TestReport(nodeid=nodeid, location=("t.py", None, "t"), keywords={}, outcome="failed",
                                   longrepr="worker crashed while running it", when="???")
        self.scheduler.report(report)

    def report(self, index: int, when: str, outcome: str, message: str = "") -> None:
        longrepr = ("t.py", None, f"Skipped: {message}") if outcome == "skipped" else (message or None)
        self.scheduler.report(pytest.TestReport(nodeid=self.plan.nodeids[index], location=("t.py", None, "t"),
                                                keywords={}, outcome=outcome, longrepr=longrepr, when=when))

    def describe(self, workers) -> str:
        return "deadlock: " + "; ".join(f"{w.node.gateway.id} current={w.current} queue={list(w.node.queue)}"
                                         for w in workers if not w.done)


def make_plan(size: int, deps: dict[int, list[int]], groups: dict[int, str | None], caps: dict[str, int],
              priority: dict[int, float] | None = None) -> ItemPlan:
    return ItemPlan(
        nodeids=tuple(f"t.py::test[i{n}]" for n in range(size)), instances=tuple(f"i{n}" for n in range(size)),
        dependencies=tuple(tuple(sorted(deps.get(n, ()))) for n in range(size)),
        priority=tuple((priority or {}).get(n, 1.0) for n in range(size)),
        groups=tuple(groups.get(n) for n in range(size)), isolate_on_failure=(False,) * size, caps=caps)


def simulate(plan: ItemPlan, workers: int, **kwargs) -> Sim:
    with tempfile.TemporaryDirectory() as tmp:
        sim = Sim(plan, Channel(Path(tmp)), workers, **kwargs)
        sim.run()
        return sim


def check_dependencies_and_caps(sim: Sim) -> None:
    """Walk the log in the order things happened."""
    plan, finished, running = sim.plan, set(), []
    for event, index, _ in sim.log:
        if event in ("end", "crash"):
            finished.add(index)
            running.remove(index)
        else:
            missing = [d for d in plan.dependencies[index] if d not in finished]
            assert not missing, f"i{index} began before its dependencies {missing} finished"
            if event == "skip":
                finished.add(index)        # a skip takes no time
            else:
                running.append(index)
                for group, cap in plan.caps.items():
                    assert sum(1 for i in running if plan.groups[i] == group) <= cap, f"cap of {group} exceeded"


def expected_skips(plan: ItemPlan, broken: set[int]) -> dict[int, str]:
    """item -> root cause, for the transitive dependents of broken items. The first isolating dependency
    in id order is named; a broken item that is itself skipped never runs, so it is no root."""
    roots: dict[int, str] = {}
    for index in range(len(plan)):   # indices are in dependency order in these plans
        for dependency in sorted(plan.dependencies[index], key=lambda d: f"i{d}"):
            if dependency in roots:
                roots[index] = roots[dependency]
                break
            if dependency in broken:
                roots[index] = f"i{dependency}"
                break
    return roots


@st.composite
def scenarios(draw):
    size = draw(st.integers(1, 30))
    deps = {n: sorted(draw(st.sets(st.integers(0, n - 1), max_size=3))) if n else [] for n in range(size)}
    groups = {n: draw(st.sampled_from([None, None, "prod", "stage"])) for n in range(size)}
    caps = draw(st.sampled_from([{}, {"prod": 1}, {"prod": 2, "stage": 1}]))
    priority = {n: draw(st.floats(0, 5)) for n in range(size)}
    errors = draw(st.sets(st.integers(0, size - 1), max_size=3))
    durations = {n: draw(st.sampled_from([0.5, 1.0, 3.0])) for n in range(size)}
    workers = draw(st.integers(1, 5))
    return make_plan(size, deps, groups, caps, priority), errors, durations, workers


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_no_hang_dependencies_first_caps_held_and_exactly_the_dependents_skipped(scenario):
    plan, errors, durations, workers = scenario
    sim = simulate(plan, workers, errors=errors, durations=durations)
    check_dependencies_and_caps(sim)
    started = [i for e, i, _ in sim.log if e == "start"]
    skipped = {i for e, i, _ in sim.log if e == "skip"}
    assert len(started) == len(set(started)) and not set(started) & skipped
    assert set(started) | skipped == set(range(len(plan)))          # every item ended exactly once
    roots = expected_skips(plan, errors)
    assert skipped == set(roots)
    for index in skipped:
        assert sim.scheduler.outcomes.outcome(index).root_cause == roots[index]
        assert sim.reasons[index].startswith("dependency ") and roots[index] in sim.reasons[index]
    assert sim.scheduler.unreported() == []


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.data())
def test_a_crash_is_an_error_for_isolation_and_the_queue_moves_to_a_new_worker(scenario, data):
    plan, _, durations, workers = scenario
    crash = data.draw(st.integers(0, len(plan) - 1))
    sim = simulate(plan, workers, errors=set(), durations=durations, crash=crash)
    check_dependencies_and_caps(sim)
    skipped = {i for e, i, _ in sim.log if e == "skip"}
    assert skipped == set(expected_skips(plan, {crash}))
    assert sim.scheduler.outcomes.outcome(crash).status == "error"
    ran = {i for e, i, _ in sim.log if e == "start"}
    assert ran | skipped == set(range(len(plan)))


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.data())
def test_a_crash_noticed_after_other_events_never_sends_to_the_dead_worker(scenario, data):
    """The race seen under xdist: a worker dies, another finishes an item before the controller hears of
    the crash, and the scheduler's next dispatch must not fail on the dead worker's broken channel."""
    plan, _, durations, workers = scenario
    crash = data.draw(st.integers(0, len(plan) - 1))
    sim = simulate(plan, max(workers, 2), errors=set(), durations=durations, crash=crash, late_crash_notice=True)
    check_dependencies_and_caps(sim)
    skipped = {i for e, i, _ in sim.log if e == "skip"}
    assert skipped == set(expected_skips(plan, {crash}))
    ran = {i for e, i, _ in sim.log if e == "start"}
    assert ran | skipped == set(range(len(plan)))


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.data())
def test_stopping_ends_the_run_and_leaves_the_rest_to_be_reported_as_not_run(scenario, data):
    plan, _, durations, workers = scenario
    failing = data.draw(st.integers(0, len(plan) - 1))
    sim = simulate(plan, workers, errors={failing}, durations=durations, maxfail_after=failing)
    ended = {i for e, i, _ in sim.log if e in ("start", "skip")}
    assert ended.isdisjoint(sim.scheduler.unreported())
    assert ended | set(sim.scheduler.unreported()) == set(range(len(plan)))
    isolated = expected_skips(plan, {failing})
    for index, reason in sim.reasons.items():
        # A dependent of the failure may be skipped for either reason; anything else only because the run stops.
        stopped = reason == "not run: stopping after 1 failures"
        assert stopped or (index in isolated and reason.startswith("dependency ")), (index, reason)


def test_a_single_queued_root_everything_depends_on_does_not_hang():
    """The classic empty-queue hang: one root, every other item depends on it, more workers than ready
    items. A scheduler sending only ready items would leave the root waiting for its next index."""
    size = 12
    plan = make_plan(size, {n: [0] for n in range(1, size)}, {}, {})
    sim = simulate(plan, 4, errors=set())
    starts = {i: at for e, i, at in sim.log if e == "start"}
    ends = {i: at for e, i, at in sim.log if e == "end"}
    assert all(starts[i] >= ends[0] for i in range(1, size))


def test_a_chain_runs_one_item_at_a_time_on_any_number_of_workers():
    size = 8
    plan = make_plan(size, {n: [n - 1] for n in range(1, size)}, {}, {})
    sim = simulate(plan, 3, errors=set())
    order = [i for e, i, _ in sim.log if e == "start"]
    assert order == list(range(size))
