"""DependencyGraph: construction from a StackSet, validation, ordering and every query."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from harness.config import EnvironmentProfile, HarnessConfig
from harness.graph import (
    MAX_COUNTED_CYCLES,
    MAX_LISTED_CYCLES,
    ConcurrencyLimits,
    DependencyGraph,
    GraphError,
)
from tests.graph.helpers import instance, stackset

# vpc -> subnet -> {eks, rds}; kms -> rds; eks -> app. dns stands alone.
PLATFORM = (
    instance("vpc@dev", environment_type="dev"),
    instance("subnet@dev", "vpc@dev", environment_type="dev"),
    instance("kms@dev", environment_type="dev"),
    instance("rds@dev", "subnet@dev", "kms@dev", environment_type="dev"),
    instance("eks@dev", "subnet@dev", environment_type="dev"),
    instance("app@dev", "eks@dev", environment_type="dev"),
    instance("dns@prod", environment_type="prod"),
)


@pytest.fixture
def platform() -> DependencyGraph:
    return DependencyGraph.build(stackset(*PLATFORM))


def test_nodes_are_deployable_instances_and_edges_run_dependency_to_dependent():
    graph = DependencyGraph.build(stackset(
        instance("base@dev", metadata={"type": "abstract"}),
        instance("off@dev", metadata={"enabled": False}),
        instance("chart@dev", "vpc@dev", component_type="helmfile"),
        instance("vpc@dev"),
        instance("subnet@dev", "vpc@dev", "off@dev"),
    ))
    assert graph.nodes == ("subnet@dev", "vpc@dev")
    assert graph.edges == (("vpc@dev", "subnet@dev"),)
    assert graph.errors == {}
    [warning] = graph.warnings
    assert (warning.id, warning.dependency) == ("subnet@dev", "off@dev")
    assert "disabled" in warning.message


def test_include_predicate_widens_the_node_set():
    source = stackset(instance("vpc@dev"), instance("chart@dev", "vpc@dev", component_type="helmfile"))
    graph = DependencyGraph.build(source, include=lambda i: not i.abstract and i.enabled)
    assert graph.dependents("vpc@dev") == ("chart@dev",)


def test_unknown_dependencies_are_errors_of_the_declaring_instance():
    graph = DependencyGraph.build(stackset(
        instance("vpc@dev"),
        instance("subnet@dev", "vpc@dev", "vcp@dev"),
        instance("rds@dev", dependency_errors=("rds@dev: dependency on component 'db' in stack "
                                               "'shared' matches no instance",)),
    ))
    assert set(graph.errors) == {"subnet@dev", "rds@dev"}
    assert "vcp@dev" in graph.errors["subnet@dev"][0]
    assert "matches no instance" in graph.errors["rds@dev"][0]
    assert not graph.ok
    # An unknown dependency does not block ordering: the instance still gets a batch.
    assert graph.batch_of("subnet@dev") == 1
    assert graph.to_dict()["errors"] == [
        {"id": "rds@dev", "message": graph.errors["rds@dev"][0]},
        {"id": "subnet@dev", "message": graph.errors["subnet@dev"][0]},
    ]


def test_order_is_topological_with_ties_broken_by_id(platform):
    assert platform.order() == ("dns@prod", "kms@dev", "vpc@dev", "subnet@dev", "eks@dev",
                                "app@dev", "rds@dev")


def test_batches_are_generations(platform):
    assert platform.batches() == (
        ("dns@prod", "kms@dev", "vpc@dev"),
        ("subnet@dev",),
        ("eks@dev", "rds@dev"),
        ("app@dev",),
    )
    assert platform.batch_of("rds@dev") == 2
    assert platform.parallelism() == (3, 1, 2, 1)


def test_output_is_identical_whatever_the_input_order():
    expected = json.dumps(DependencyGraph.build(stackset(*PLATFORM)).to_dict())
    rng = random.Random(7)
    for _ in range(5):
        shuffled = list(PLATFORM)
        rng.shuffle(shuffled)
        graph = DependencyGraph.build(shuffled)
        assert json.dumps(graph.to_dict()) == expected


def test_critical_path_counts_instances_by_default(platform):
    assert platform.critical_path() == ("vpc@dev", "subnet@dev", "eks@dev", "app@dev")
    assert platform.critical_path_length() == 4


def test_critical_path_follows_weights(platform):
    weights = {"kms@dev": 100.0, "rds@dev": 5.0}
    assert platform.critical_path(weights) == ("kms@dev", "rds@dev")
    assert platform.critical_path_length(weights) == 105.0


def test_critical_path_ties_go_to_smallest_ids():
    graph = DependencyGraph.from_edges(["b@s", "a@s", "c@s"], [("b@s", "c@s"), ("a@s", "c@s")])
    assert graph.critical_path() == ("a@s", "c@s")


def test_priority_is_heaviest_path_to_a_sink(platform):
    priority = platform.priority({"app@dev": 10.0})
    assert priority["app@dev"] == 10.0
    assert priority["eks@dev"] == 11.0
    assert priority["vpc@dev"] == 13.0
    assert priority["kms@dev"] == 2.0
    assert priority["dns@prod"] == 1.0


def test_negative_weights_are_refused(platform):
    with pytest.raises(GraphError, match="vpc@dev"):
        platform.critical_path({"vpc@dev": -1})


def test_direct_and_transitive_dependencies_and_dependents(platform):
    assert platform.dependencies("rds@dev") == ("kms@dev", "subnet@dev")
    assert platform.dependencies("rds@dev", transitive=True) == ("kms@dev", "subnet@dev", "vpc@dev")
    assert platform.dependents("subnet@dev") == ("eks@dev", "rds@dev")
    assert platform.dependents("subnet@dev", transitive=True) == ("app@dev", "eks@dev", "rds@dev")
    assert platform.dependents("dns@prod", transitive=True) == ()


def test_unknown_ids_in_queries_name_close_matches(platform):
    with pytest.raises(GraphError, match="did you mean subnet@dev"):
        platform.dependents("subnett@dev")


def test_closure_for_running_a_selection(platform):
    assert platform.closure(["rds@dev"]) == ("kms@dev", "rds@dev", "subnet@dev", "vpc@dev")
    assert platform.closure(["eks@dev"], include_dependencies=False, include_dependents=True) == (
        "app@dev", "eks@dev")
    assert platform.closure(["eks@dev"], include_dependencies=False) == ("eks@dev",)


def test_connected_components_largest_first(platform):
    assert platform.connected_components() == (
        ("app@dev", "eks@dev", "kms@dev", "rds@dev", "subnet@dev", "vpc@dev"),
        ("dns@prod",),
    )


def test_subgraph_keeps_only_inner_edges(platform):
    sub = platform.subgraph(["eks@dev", "app@dev", "rds@dev"])
    assert sub.edges == (("eks@dev", "app@dev"),)
    assert sub.batches() == (("eks@dev", "rds@dev"), ("app@dev",))


def test_with_changes_adds_and_removes_edges(platform):
    changed = platform.with_changes(add=[("dns@prod", "vpc@dev")], remove=[("subnet@dev", "eks@dev")])
    assert changed.dependencies("vpc@dev") == ("dns@prod",)
    assert changed.dependencies("eks@dev") == ()
    assert platform.dependencies("eks@dev") == ("subnet@dev",)  # the original is untouched
    with pytest.raises(GraphError, match="does not depend on"):
        platform.with_changes(remove=[("dns@prod", "vpc@dev")])
    with pytest.raises(GraphError, match="not an instance"):
        platform.with_changes(add=[("nope@dev", "vpc@dev")])


# -- cycles ---------------------------------------------------------------------------------------
def test_self_loop_is_a_cycle_and_blocks_its_dependents():
    graph = DependencyGraph.build(stackset(instance("a@s", "a@s"), instance("b@s", "a@s"), instance("c@s")))
    assert graph.cycles == (("a@s",),)
    assert graph.blocked == {"a@s", "b@s"}
    assert graph.batches() == (("c@s",),)
    assert graph.order() == ("c@s",)
    assert graph.batch_of("b@s") is None


def test_two_cycle_is_listed_once_along_its_edges():
    graph = DependencyGraph.build(stackset(instance("b@s", "a@s"), instance("a@s", "b@s")))
    assert graph.cycles == (("a@s", "b@s"),)
    assert graph.cycle_count == 1


def test_cycle_path_follows_edge_direction_from_smallest_id():
    # c depends on b, b on a, a on c: edges a->b, b->c, c->a.
    graph = DependencyGraph.build(stackset(instance("b@s", "a@s"), instance("c@s", "b@s"),
                                           instance("a@s", "c@s")))
    assert graph.cycles == (("a@s", "b@s", "c@s"),)


def test_cycle_beside_a_healthy_part_leaves_the_healthy_part_ordered():
    graph = DependencyGraph.build(stackset(
        *PLATFORM,
        instance("x@ops", "y@ops"), instance("y@ops", "x@ops"),
        instance("z@ops", "y@ops"),            # downstream of the cycle
        instance("w@ops", "vpc@dev"),           # downstream of healthy vpc only
    ))
    assert graph.cycles == (("x@ops", "y@ops"),)
    assert graph.blocked == {"x@ops", "y@ops", "z@ops"}
    assert set(graph.order()) == {i.id for i in PLATFORM} | {"w@ops"}
    assert graph.batch_of("w@ops") == 1
    data = graph.to_dict()
    assert {n["id"] for n in data["nodes"] if n["batch"] is None} == {"x@ops", "y@ops", "z@ops"}
    assert not any("x@ops" in b for b in data["batches"])
    assert data["cycles"] == [["x@ops", "y@ops"]]


def test_priority_and_critical_path_ignore_the_blocked_part():
    # a -> x, x <-> y: a still runs, its blocked dependents add nothing.
    graph = DependencyGraph.from_edges(["a@s", "x@s", "y@s"],
                                       [("a@s", "x@s"), ("x@s", "y@s"), ("y@s", "x@s")])
    assert graph.priority() == {"a@s": 1.0}
    assert graph.critical_path() == ("a@s",)


def test_cycle_listing_is_bounded_but_counted():
    ids = [f"n{i}@s" for i in range(6)]
    complete = [(a, b) for a in ids for b in ids if a != b]
    graph = DependencyGraph.from_edges(ids, complete)
    assert len(graph.cycles) == MAX_LISTED_CYCLES
    assert graph.cycle_count == 409          # elementary cycles of the complete digraph K6
    assert not graph.cycle_count_capped
    assert graph.cycles[0] == ("n0@s", "n1@s")

    ids7 = [f"n{i}@s" for i in range(7)]
    big = DependencyGraph.from_edges(ids7, [(a, b) for a in ids7 for b in ids7 if a != b])
    assert big.cycle_count == MAX_COUNTED_CYCLES and big.cycle_count_capped


def test_acyclic_graph_is_ok(platform):
    assert platform.ok and not platform.has_cycles and platform.cycles == ()


# -- concurrency limits ---------------------------------------------------------------------------
def test_concurrency_limits_cap_parallelism(platform):
    limits = ConcurrencyLimits(lambda i: platform.node(i).environment_type, {"dev": 1})
    graph = DependencyGraph.build(stackset(*PLATFORM), limits=limits)
    assert graph.parallelism() == (2, 1, 1, 1)   # batch 0: one dev + dns@prod (uncapped group)
    assert limits.admits("vpc@dev", running=["dns@prod"])
    assert not limits.admits("vpc@dev", running=["kms@dev"])
    assert limits.limit("vpc@dev") == 1 and limits.limit("dns@prod") is None


def test_concurrency_limits_from_profiles(platform):
    config = HarnessConfig(profiles={"prod": EnvironmentProfile(name="prod", max_concurrency=2),
                                     "dev": EnvironmentProfile(name="dev")})
    limits = ConcurrencyLimits.from_profiles(platform, config)
    assert limits.group("dns@prod") == "prod" and limits.limit("dns@prod") == 2
    assert limits.limit("vpc@dev") is None


# -- JSON contract --------------------------------------------------------------------------------
def test_json_contract_shape(platform):
    data = platform.to_dict()
    assert list(data) == ["nodes", "edges", "batches", "critical_path", "cycles", "errors"]
    assert data["nodes"][0] == {"id": "app@dev", "component": "app", "stack": "dev",
                                "environment_type": "dev", "batch": 3}
    assert {"from": "vpc@dev", "to": "subnet@dev"} in data["edges"]
    assert data["batches"][0] == ["dns@prod", "kms@dev", "vpc@dev"]
    assert data["critical_path"] == ["vpc@dev", "subnet@dev", "eks@dev", "app@dev"]
    json.dumps(data)


_DETERMINISM_SCRIPT = """
import json, random
from harness.graph import DependencyGraph
rng = random.Random(3)
ids = [f"c{i}@s{i % 4}" for i in range(60)]
edges = {(rng.choice(ids), rng.choice(ids)) for _ in range(120)}
graph = DependencyGraph.from_edges(ids, edges)
print(json.dumps([graph.to_dict(), graph.order(), graph.connected_components(), sorted(graph.blocked),
                  graph.cycle_count, graph.priority()], sort_keys=True))
"""


def test_answers_do_not_depend_on_hash_randomisation():
    outputs = {
        subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT], capture_output=True, text=True,
                       check=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert json.loads(outputs.pop())[0]["cycles"], "the sample graph is meant to have cycles"
