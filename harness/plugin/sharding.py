"""`--shard I/N`: run shard I of N of the selected instances, for nightly CI at scale.

Instances are split along the connected components of their dependency graph, so a dependency
never crosses shards (the scheduler and failure isolation see whole chains), and balanced by
resource count read from the states. Greedy longest-processing-time: components heaviest first,
each to the lightest shard so far (ties: lowest shard number) — deterministic for the same input.

Example: components {a, b} (weight 5), {c} (4), {d} (2), {e} (1) into 2 shards: {a, b} goes to
shard 1, {c} to shard 2, {d} to the lighter shard 2 (4 < 5), {e} to the lighter shard 1 (5 < 6):
shard 1 = {a, b, e} (6), shard 2 = {c, d} (6).

Under xdist the controller computes the split once (it reads the states) and hands every worker
the same member list through `workerinput`, so all workers collect the same items.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from harness.errors import UsageError
from harness.plugin.transport import item_instance
from harness.stacks.model import ComponentInstance

log = logging.getLogger(__name__)

OPTION = "stackharness_shard"
WORKERINPUT_KEY = "stackharness_shard_members"
MEMBERS_KEY = pytest.StashKey[frozenset[str]]()
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        match = _SPEC.match(text or "")
        if not match:
            raise UsageError(f"--shard {text!r} is not I/N", where="--shard",
                             hint="write it as 2/4 (the second of four shards)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard {text}: the shard number must be between 1 and {max(count, 1)}",
                             where="--shard", hint="shards are numbered 1..N")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def plan_shards(groups: Iterable[Sequence[str]], weights: Mapping[str, int], count: int) -> list[tuple[str, ...]]:
    """Split groups of ids (each kept whole) into `count` shards of about equal weight; each shard sorted."""
    weighted = sorted(((sum(max(1, weights.get(i, 1)) for i in g), tuple(sorted(g))) for g in groups if g),
                      key=lambda wg: (-wg[0], wg[1]))
    loads = [0] * count
    shards: list[list[str]] = [[] for _ in range(count)]
    for weight, group in weighted:
        lightest = min(range(count), key=lambda n: (loads[n], n))
        loads[lightest] += weight
        shards[lightest].extend(group)
    return [tuple(sorted(s)) for s in shards]


def shard_groups(ids: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[tuple[str, ...]]:
    """The connected components of `ids` under `edges` (edges to other ids ignored); singletons included."""
    from harness.graph import DependencyGraph

    wanted = sorted(set(ids))
    chosen = set(wanted)
    graph = DependencyGraph.from_edges(wanted, [(s, t) for s, t in edges if s in chosen and t in chosen])
    return list(graph.connected_components())


def resource_weights(session: Any, instances: Sequence[Any], *, threads: int = 8) -> dict[str, int]:
    """Managed resource instances per instance from its state; 1 when the state cannot be read."""
    def weight(instance: Any) -> tuple[str, int]:
        try:
            return instance.id, max(1, len(session.state_of(instance).managed_resources))
        except Exception as exc:  # any failure only costs balance, never correctness
            log.debug("shard weight of %s: state not readable (%s); counted as 1", instance.id, exc)
            return instance.id, 1
    if not instances:
        return {}
    with ThreadPoolExecutor(max_workers=min(threads, len(instances))) as pool:
        return dict(pool.map(weight, instances))


def shard_members(session: Any, spec: ShardSpec) -> frozenset[str]:
    """The parameter ids (instance ids, and ids of unresolved items) that belong to shard `spec`."""
    from harness.graph import DependencyGraph

    params = session.parameters()
    ids = [p.id for p in params]
    instances = [p for p in params if isinstance(p, ComponentInstance)]
    graph = DependencyGraph.build(session.stack_set)
    groups = shard_groups(ids, graph.edges)
    plan = plan_shards(groups, resource_weights(session, instances), spec.count)
    return frozenset(plan[spec.index - 1])


def shard_spec(config: pytest.Config) -> ShardSpec | None:
    text = config.getoption(OPTION, None)
    return ShardSpec.parse(text) if text else None


def _members(config: pytest.Config, spec: ShardSpec) -> frozenset[str]:
    if MEMBERS_KEY not in config.stash:
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and WORKERINPUT_KEY in workerinput:
            config.stash[MEMBERS_KEY] = frozenset(workerinput[WORKERINPUT_KEY])
        else:
            from harness.plugin.session import harness_session

            config.stash[MEMBERS_KEY] = shard_members(harness_session(config), spec)
    return config.stash[MEMBERS_KEY]


# -- hooks ---------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("stackharness").addoption(
        "--shard", dest=OPTION, default=None, metavar="I/N",
        help="run shard I of N: instances split along dependency-graph components, balanced by resource count")


def pytest_configure(config: pytest.Config) -> None:
    try:
        shard_spec(config)
    except UsageError as exc:
        raise pytest.UsageError(f"stackharness: {exc}") from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: give each worker the shard's members (computed once, here)."""
    spec = shard_spec(node.config)
    if spec is not None:
        node.workerinput[WORKERINPUT_KEY] = sorted(_members(node.config, spec))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    spec = shard_spec(config)
    if spec is None:
        return
    members = _members(config, spec)
    keep, drop = [], []
    for item in items:
        instance = item_instance(item)
        # Items of no instance (plain tests) run once, in the first shard.
        belongs = instance in members if instance is not None else spec.index == 1
        (keep if belongs else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep



@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Controller of a shard that got no instance: still write its (empty) drift.json for the merge."""
    config = session.config
    spec = shard_spec(config)
    if spec is None or hasattr(config, "workerinput") or config.stash.get(MEMBERS_KEY, None) != frozenset():
        return
    from harness.plugin.collector import utc_now
    from harness.plugin.reporting import write_reports
    from harness.plugin.session import harness_session

    now = utc_now()
    for line in write_reports(harness_session(config), started=now, finished=now, instances=[], results=[],
                              errors=[], workers=1, api_calls=None):
        log.info("%s", line)
