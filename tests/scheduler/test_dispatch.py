"""The shared readiness/priority/caps logic and the isolation reasons (harness.dispatch)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.dispatch import DONE, READY, RUNNING, WAITING, Dispatch, Outcome, blocked_by


def test_ready_units_come_best_priority_first_then_in_given_order():
    dispatch = Dispatch(["a", "b", "c", "d"], {"c": ["a", "b"], "d": ["c"]}, priority={"a": 1, "b": 3, "c": 2})
    assert dispatch.ready() == ["b", "a"]
    assert dispatch.take(1) == ["b"]
    assert dispatch.state("b") == RUNNING and dispatch.state("c") == WAITING
    assert dispatch.finish("b") == []
    assert dispatch.take() == ["a"]
    assert dispatch.finish("a") == ["c"]
    assert dispatch.take() == ["c"] and dispatch.finish("c") == ["d"]
    assert dispatch.take() == ["d"] and dispatch.finish("d") == []
    assert dispatch.finished and not dispatch.stalled


def test_caps_hold_back_units_of_a_full_group_but_not_others():
    group = {"p1": "prod", "p2": "prod", "p3": "prod", "d1": "dev"}.get
    dispatch = Dispatch(["p1", "p2", "p3", "d1"], {}, group=group, caps={"prod": 2})
    assert dispatch.take() == ["p1", "p2", "d1"]
    assert dispatch.state("p3") == READY and not dispatch.admits("p3")
    assert dispatch.take(admit=False) == ["p3"]     # the caller may overrule the cap
    dispatch.finish("p1")
    assert dispatch.admits("p1") is False          # p2 and p3 still run


def test_accept_refuses_units_without_losing_them():
    dispatch = Dispatch(["a", "b"], {})
    assert dispatch.take(accept=lambda u: u == "b") == ["b"]
    assert dispatch.ready() == ["a"]


def test_early_units_have_every_dependency_started_and_prefer_comes_first():
    dispatch = Dispatch(["a", "b", "x", "y", "z"], {"x": ["a"], "y": ["b"], "z": ["x"]}, priority={"x": 1, "y": 2})
    assert dispatch.early(5) == []
    dispatch.take()                                  # a and b run
    assert dispatch.early(5) == ["y", "x"]            # z waits for x, which has not started
    assert dispatch.early(1, prefer=lambda u: u == "x") == ["x"]
    dispatch.start("x")
    assert dispatch.state("x") == RUNNING and dispatch.early(5) == ["y", "z"]


def test_requeue_puts_a_running_unit_back_and_its_dependents_lose_their_early_place():
    dispatch = Dispatch(["a", "b"], {"b": ["a"]})
    dispatch.take()
    assert dispatch.early(1) == ["b"]
    dispatch.requeue("a")
    assert dispatch.state("a") == READY and dispatch.early(1) == []
    with pytest.raises(ValueError):
        dispatch.finish("a")


def test_a_cycle_stalls_its_units_only():
    dispatch = Dispatch(["a", "b", "c"], {"a": ["b"], "b": ["a"]})
    assert dispatch.take() == ["c"]
    dispatch.finish("c")
    assert dispatch.stalled and dispatch.units(WAITING) == ["a", "b"]


def test_order_is_topological_with_the_critical_path_first():
    dispatch = Dispatch(["a", "b", "c", "d"], {"b": ["a"], "c": ["b"]}, priority={"a": 3, "b": 2, "c": 1, "d": 1})
    assert list(dispatch.order()) == ["a", "b", "c", "d"]


def test_unknown_dependencies_and_self_loops_are_ignored():
    dispatch = Dispatch(["a"], {"a": ["a", "ghost"]})
    assert dispatch.dependencies("a") == () and dispatch.take() == ["a"]


def test_a_failed_dependency_names_itself_and_a_skipped_one_names_the_root():
    failed = Outcome("error", "RuntimeError: cannot read state\nTraceback ...", isolating=True)
    first = blocked_by([("vpc@prod", failed), ("dns@prod", Outcome("ok"))])
    assert first == Outcome("skipped", "dependency vpc@prod failed: RuntimeError: cannot read state",
                            isolating=True, root_cause="vpc@prod")
    second = blocked_by([("subnet@prod", first)])
    assert second.message == "dependency subnet@prod skipped (root cause: vpc@prod failed)"
    assert second.root_cause == "vpc@prod"
    assert blocked_by([("a", Outcome("failed", "drift", isolating=False)), ("b", Outcome("skipped", "no state"))]) \
        is None


def test_the_first_isolating_dependency_in_id_order_is_named():
    bad = Outcome("failed", "x", isolating=True)
    assert blocked_by([("z@s", bad), ("a@s", bad)]).root_cause == "a@s"


def test_long_messages_are_cut():
    verdict = blocked_by([("a", Outcome("error", "y" * 1000, isolating=True))])
    assert len(verdict.message) < 400 and verdict.message.endswith("…")


@st.composite
def dags(draw):
    size = draw(st.integers(1, 25))
    deps = {n: sorted(draw(st.sets(st.integers(0, n - 1), max_size=3))) if n else [] for n in range(size)}
    priority = {n: draw(st.floats(0, 10)) for n in range(size)}
    groups = {n: draw(st.sampled_from([None, "g1", "g2"])) for n in range(size)}
    caps = {"g1": draw(st.integers(1, 3)), "g2": draw(st.integers(1, 2))}
    return size, deps, priority, groups, caps


@settings(max_examples=150, deadline=None)
@given(dags(), st.integers(1, 5), st.randoms(use_true_random=False))
def test_simulated_runs_respect_dependencies_caps_and_priority(dag, slots, rng):
    size, deps, priority, groups, caps = dag
    dispatch = Dispatch(list(range(size)), deps, priority=priority, group=groups.get, caps=caps)
    running: list[int] = []
    done: set[int] = set()
    while not dispatch.finished:
        ready_before = dispatch.ready()
        taken = dispatch.take(slots - len(running))
        for unit in taken:
            assert set(deps[unit]) <= done                       # dependencies finished first
            # Nothing better was passed over unless its group was full.
            better = [u for u in ready_before if (-priority[u], u) < (-priority[unit], unit) and u not in taken]
            assert all(caps.get(groups[u]) is not None for u in better)
        running += taken
        for group, cap in caps.items():
            assert sum(1 for u in running if groups[u] == group) <= cap
        assert running, "nothing runs although units remain"
        unit = running.pop(rng.randrange(len(running)))
        dispatch.finish(unit)
        done.add(unit)
    assert done == set(range(size)) and dispatch.count(DONE) == size


def test_order_handles_thousands_of_units_quickly():
    rng = random.Random(7)
    deps = {n: rng.sample(range(n), min(n, 3)) for n in range(5000)}
    order = list(Dispatch(list(range(5000)), deps).order())
    position = {u: n for n, u in enumerate(order)}
    assert len(order) == 5000 and all(position[d] < position[u] for u, ds in deps.items() for d in ds)
