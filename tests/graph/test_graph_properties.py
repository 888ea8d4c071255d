"""Invariants of ordering and batching over random graphs (hypothesis)."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.graph import DependencyGraph


@st.composite
def dags(draw, max_nodes: int = 25) -> tuple[list[str], list[tuple[str, str]]]:
    """A random DAG whose ids are shuffled, so id order says nothing about dependency order."""
    n = draw(st.integers(min_value=0, max_value=max_nodes))
    ids = draw(st.permutations([f"c{i}@s{i % 3}" for i in range(n)]))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=3 * n)) if pairs else []
    return ids, [(ids[i], ids[j]) for i, j in chosen]


@st.composite
def digraphs(draw, max_nodes: int = 15) -> tuple[list[str], list[tuple[str, str]]]:
    """A random directed graph, cycles and self-loops allowed."""
    n = draw(st.integers(min_value=1, max_value=max_nodes))
    ids = [f"c{i}@s" for i in range(n)]
    edges = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), unique=True,
                          max_size=2 * n))
    return ids, edges


@settings(max_examples=150, deadline=None)
@given(dags())
def test_every_edge_goes_from_an_earlier_batch_to_a_later_one(dag):
    ids, edges = dag
    graph = DependencyGraph.from_edges(ids, edges)
    for source, target in edges:
        assert graph.batch_of(source) < graph.batch_of(target)


@settings(max_examples=150, deadline=None)
@given(dags())
def test_batches_are_minimal(dag):
    ids, edges = dag
    graph = DependencyGraph.from_edges(ids, edges)
    batches = graph.batches()
    assert sorted(i for b in batches for i in b) == sorted(ids)
    for number, batch in enumerate(batches):
        assert batch, "no empty batch"
        for node in batch:
            deps = graph.dependencies(node)
            if number == 0:
                assert deps == ()
            else:  # it could not go one batch earlier: some dependency sits just before it
                assert any(graph.batch_of(d) == number - 1 for d in deps)


@settings(max_examples=150, deadline=None)
@given(dags())
def test_order_is_the_smallest_linear_extension(dag):
    ids, edges = dag
    graph = DependencyGraph.from_edges(ids, edges)
    order = graph.order()
    assert sorted(order) == sorted(ids)
    position = {node: index for index, node in enumerate(order)}
    for source, target in edges:
        assert position[source] < position[target]
    placed: set[str] = set()
    for node in order:   # each step takes the smallest id whose dependencies are all placed
        ready = [i for i in ids if i not in placed and set(graph.dependencies(i)) <= placed]
        assert node == min(ready)
        placed.add(node)


@settings(max_examples=150, deadline=None)
@given(dags())
def test_unit_critical_path_spans_every_batch(dag):
    ids, edges = dag
    graph = DependencyGraph.from_edges(ids, edges)
    path = graph.critical_path()
    assert len(path) == len(graph.batches()) == graph.critical_path_length()
    assert all((a, b) in set(edges) for a, b in pairwise(path))
    priority = graph.priority()
    assert max(priority.values(), default=0) == graph.critical_path_length()


@settings(max_examples=150, deadline=None)
@given(digraphs())
def test_blocked_is_exactly_cycles_and_their_downstream(spec):
    ids, edges = spec
    graph = DependencyGraph.from_edges(ids, edges)
    reference = nx.DiGraph(edges)
    reference.add_nodes_from(ids)
    on_cycle = {n for c in nx.strongly_connected_components(reference)
                for n in c if len(c) > 1 or reference.has_edge(n, n)}
    expected = set(on_cycle)
    for node in on_cycle:
        expected |= nx.descendants(reference, node)
    assert graph.blocked == expected
    assert set(graph.order()) == set(ids) - expected
    assert set(graph.priority()) == set(graph.order())
    assert not set(graph.critical_path()) & expected
    for cycle in graph.cycles:
        assert cycle[0] == min(cycle)
        assert all(reference.has_edge(a, b) for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True))
    assert graph.cycle_count == sum(1 for _ in nx.simple_cycles(reference))
