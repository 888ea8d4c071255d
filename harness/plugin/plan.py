"""The item plan: what scheduling needs to know about each collected item, by its collection index.

An item's *suite* is its test function (plus any parameters other than `component`); its
*instance* is the `component` parameter. Item i of suite S depends on the items of S whose
instance is a dependency of i's instance (edges of `DependencyGraph.build(stack_set)`), so
`test_drift[subnet@prod]` waits for `test_drift[vpc@prod]` but not for `test_state[vpc@prod]`.
Priority is the instance's critical-path priority among the selected instances; items that check
no instance have no dependencies and priority 1. Instances on a dependency cycle keep only their
edges from healthy instances (the graph command reports the cycle), so the plan is always acyclic.

The plan is computed where items exist (a worker, or the only process) and is the same on every
worker: the collection is identical and nothing in it depends on timing or iteration order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from harness.dispatch import Dispatch

if TYPE_CHECKING:
    from harness.graph import ConcurrencyLimits, DependencyGraph

MARKER = "skip_dependents_on"
MARKER_HELP = (f"{MARKER}(when): skip the dependents' items of a failed item; when='error' (default: only "
               "when the item could not be evaluated) or 'failure' (also when it failed)")


@dataclass(frozen=True)
class ItemPlan:
    """Per collection index: node id, instance, dependency indices, priority, cap group, isolation mode."""

    nodeids: tuple[str, ...]
    instances: tuple[str | None, ...]
    dependencies: tuple[tuple[int, ...], ...]
    priority: tuple[float, ...]
    groups: tuple[str | None, ...]
    isolate_on_failure: tuple[bool, ...]
    caps: Mapping[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.nodeids)

    def gated(self, index: int) -> bool:
        """Does the item wait for a permit: it has dependencies, or its group has a cap."""
        return bool(self.dependencies[index]) or self.capped(index)

    def capped(self, index: int) -> bool:
        group = self.groups[index]
        return group is not None and group in self.caps

    def dispatch(self) -> Dispatch[int]:
        """A fresh `Dispatch` over the item indices."""
        return Dispatch(range(len(self)), dict(enumerate(self.dependencies)),
                        priority=dict(enumerate(self.priority)), group=self.groups.__getitem__, caps=self.caps)

    def order(self) -> list[int]:
        """The indices one at a time in dependency order, critical path first (the order without -n)."""
        order = list(self.dispatch().order())
        if len(order) < len(self):   # never expected (the plan is acyclic), but never drop an item
            seen = set(order)
            order += [n for n in range(len(self)) if n not in seen]
        return order

    def to_json(self) -> dict[str, Any]:
        return {"nodeids": list(self.nodeids), "instances": list(self.instances),
                "dependencies": [list(d) for d in self.dependencies], "priority": list(self.priority),
                "groups": list(self.groups), "isolate_on_failure": list(self.isolate_on_failure),
                "caps": dict(self.caps)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemPlan:
        return cls(tuple(data["nodeids"]), tuple(data["instances"]),
                   tuple(tuple(d) for d in data["dependencies"]), tuple(data["priority"]),
                   tuple(data["groups"]), tuple(data["isolate_on_failure"]), dict(data["caps"]))


def suite_key(item: pytest.Item) -> str:
    """The suite an item belongs to: its function, plus the indices of parameters other than `component`."""
    parent = item.parent.nodeid if item.parent is not None else ""
    key = f"{parent}::{getattr(item, 'originalname', item.name)}"
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        others = sorted((name, index) for name, index in callspec.indices.items() if name != "component")
        if others:
            key += "[" + ",".join(f"{name}={index}" for name, index in others) + "]"
    return key


def item_instance(item: pytest.Item) -> str | None:
    """The id of the deployable instance the item checks, or None."""
    from harness.stacks.model import ComponentInstance

    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("component") if callspec is not None else None
    return param.id if isinstance(param, ComponentInstance) else None


def isolates_on_failure(item: pytest.Item) -> bool:
    """What `@pytest.mark.skip_dependents_on(...)` says for the item (default: only on errors)."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return False
    when = marker.args[0] if marker.args else marker.kwargs.get("when", "error")
    if when not in ("error", "failure"):
        path, line, _ = item.location
        raise pytest.UsageError(f"{path}:{(line or 0) + 1}: {MARKER}({when!r}) is not valid — "
                                "write @pytest.mark.skip_dependents_on('failure') or ('error')")
    return when == "failure"


def build_plan(items: Sequence[pytest.Item], graph: DependencyGraph | None,
               limits: ConcurrencyLimits | None) -> ItemPlan:
    """The plan of `items` in their current order; `graph` and `limits` may be None when no item
    checks an instance."""
    instances = [item_instance(item) for item in items]
    suites = [suite_key(item) for item in items]
    index_of = {(suite, instance): n for n, (suite, instance) in enumerate(zip(suites, instances, strict=True))
                if instance is not None}
    priorities: Mapping[str, float] = {}
    if graph is not None:
        selected = sorted({i for i in instances if i is not None and i in graph})
        priorities = graph.subgraph(selected).priority()
    dependencies: list[tuple[int, ...]] = []
    for suite, instance in zip(suites, instances, strict=True):
        if instance is None or graph is None or instance not in graph:
            dependencies.append(())
            continue
        found = (index_of.get((suite, d)) for d in graph.dependencies(instance) if d not in graph.blocked)
        dependencies.append(tuple(sorted(n for n in found if n is not None)))
    groups = [limits.group(i) if limits is not None and i is not None else None for i in instances]
    caps = {name: cap for name, cap in (limits.max_concurrency.items() if limits else ()) if cap}
    return ItemPlan(
        nodeids=tuple(item.nodeid for item in items), instances=tuple(instances),
        dependencies=tuple(dependencies),
        priority=tuple(float(priorities.get(i, 1.0)) if i is not None else 1.0 for i in instances),
        groups=tuple(groups), isolate_on_failure=tuple(isolates_on_failure(item) for item in items), caps=caps)


def in_dependency_order(items: Sequence[pytest.Item], plan: ItemPlan) -> list[pytest.Item]:
    """`items` with each suite's items in dependency order (critical path first), in the places
    that suite's items already occupy; other items do not move."""
    suites = [suite_key(item) for item in items]
    places: dict[str, list[int]] = {}
    for n, suite in enumerate(suites):
        places.setdefault(suite, []).append(n)
    queues: dict[str, list[int]] = {suite: [] for suite in places}
    for n in plan.order():
        queues[suites[n]].append(n)
    result = list(items)
    for suite, positions in places.items():
        for position, n in zip(positions, queues[suite], strict=True):
            result[position] = items[n]
    return result
