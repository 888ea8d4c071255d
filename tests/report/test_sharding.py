"""`--shard I/N`: whole dependency components per shard, balanced, deterministic; shards merge to the full run."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import UsageError
from harness.graph import DependencyGraph
from harness.plugin.sharding import ShardSpec, plan_shards, shard_groups
from harness.report.merge import merge_documents
from tests.report.conftest import provision_demo, run_suite


def test_shard_spec_parsing():
    assert ShardSpec.parse("2/4") == ShardSpec(2, 4) and str(ShardSpec.parse(" 1 / 1 ")) == "1/1"
    for bad in ("0/4", "5/4", "1/0", "a/b", "3", ""):
        with pytest.raises(UsageError, match="--shard"):
            ShardSpec.parse(bad)


def test_greedy_plan_of_the_docstring_example():
    groups = [("a", "b"), ("c",), ("d",), ("e",)]
    weights = {"a": 3, "b": 2, "c": 4, "d": 2, "e": 1}
    assert plan_shards(groups, weights, 2) == [("a", "b", "e"), ("c", "d")]
    assert plan_shards(groups, weights, 5)[4] == ()          # more shards than components: some are empty


def test_groups_are_the_connected_components_of_the_selected_ids():
    edges = [("vpc@p", "subnet@p"), ("subnet@p", "app@p"), ("vpc@d", "app@d")]
    assert shard_groups(["app@p", "subnet@p", "vpc@p", "vpc@d", "app@d", "lone@x"], edges) == [
        ("app@p", "subnet@p", "vpc@p"), ("app@d", "vpc@d"), ("lone@x",)]
    # An unselected middle instance does not join its neighbours.
    assert shard_groups(["app@p", "vpc@p"], edges) == [("app@p",), ("vpc@p",)]


@st.composite
def graphs(draw):
    ids = [f"i{n}@s" for n in range(draw(st.integers(1, 30)))]
    edges = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda e: e[0] < e[1]),
                          max_size=40, unique=True))
    weights = {i: draw(st.integers(1, 50)) for i in ids}
    return ids, edges, weights


@settings(max_examples=80, deadline=None)
@given(graphs(), st.integers(1, 6))
def test_every_instance_in_exactly_one_shard_no_edge_across_and_balanced(graph, count):
    ids, edges, weights = graph
    groups = shard_groups(ids, edges)
    plan = plan_shards(groups, weights, count)
    assert plan == plan_shards(list(reversed(groups)), weights, count)          # deterministic
    assert sorted(i for shard in plan for i in shard) == sorted(ids)
    shard_of = {i: n for n, shard in enumerate(plan) for i in shard}
    assert all(shard_of[s] == shard_of[t] for s, t in edges)
    loads = [sum(weights[i] for i in shard) for shard in plan]
    heaviest_group = max(sum(weights[i] for i in g) for g in groups)
    assert max(loads) - min(loads) <= heaviest_group                              # greedy LPT bound


@pytest.mark.slow
def test_shards_of_the_demo_merge_to_the_unsharded_run(moto, tmp_path):
    stack_set, _, _ = provision_demo(moto)
    # One entry that never matches (stale only when judged over the whole run) and one expired entry
    # matching every finding (listed once after the merge, its matches added up).
    suppressions = tmp_path / "drift-suppressions.yaml"
    suppressions.write_text("suppressions:\n"
                            "  - match: {instance: 'no-such-*'}\n    reason: never\n    owner: o\n"
                            "    expires: 2999-01-01\n"
                            "  - match: {instance: '*'}\n    reason: old\n    owner: o\n    expires: 2020-01-01\n")
    full = run_suite(moto, tmp_path / "full", "--suppressions-file", str(suppressions))
    assert full.returncode == 1, full.stdout + full.stderr
    documents = []
    for index in (1, 2):
        done = run_suite(moto, tmp_path / f"shard-{index}", "--shard", f"{index}/2",
                         "--suppressions-file", str(suppressions), *(["-n", "2"] if index == 1 else []))
        assert done.returncode in (0, 1), done.stdout + done.stderr
        assert not (tmp_path / f"shard-{index}" / "history").exists()      # the merge keeps the history
        documents.append(json.loads((tmp_path / f"shard-{index}" / "drift.json").read_text()))
    members = [set(d["run"]["instances"]) for d in documents]
    assert members[0] and members[1] and not members[0] & members[1]
    assert members[0] | members[1] == {i.id for i in stack_set.deployable}
    graph = DependencyGraph.build(stack_set)
    assert graph.edges and all((s in members[0]) == (t in members[0]) for s, t in graph.edges)
    whole = json.loads((tmp_path / "full" / "drift.json").read_text())
    merged = merge_documents(documents)
    assert merged["findings"] == whole["findings"] and merged["errors"] == whole["errors"]
    drop = ("api_calls",)
    assert {k: v for k, v in merged["summary"].items() if k not in drop} == \
        {k: v for k, v in whole["summary"].items() if k not in drop}
    assert merged["run"]["instances"] == whole["run"]["instances"]
    assert sorted(map(tuple, merged["graph"]["edges"])) == sorted(map(tuple, whole["graph"]["edges"]))
    assert [d["suppressions"]["stale"] for d in documents] == [[], []]      # no shard can tell alone
    assert [e["reason"] for e in whole["suppressions"]["stale"]] == ["never"]
    (expired,) = whole["suppressions"]["expired"]
    assert expired["matched"] == len(whole["findings"]) > 0
    assert merged["suppressions"] == whole["suppressions"]
    # More shards than dependency components: the empty shard still writes its drift.json for the merge.
    empty = run_suite(moto, tmp_path / "shard-5", "--shard", "5/5")
    assert empty.returncode == 5, empty.stdout
    assert json.loads((tmp_path / "shard-5" / "drift.json").read_text())["run"]["instances"] == []
