"""Which units may start now, and which must be skipped: shared by the runner and the xdist scheduler.

A unit is whatever runs once: an instance for the component runner (`harness.runner`), a test item
for the xdist scheduler (`harness.plugin.scheduler`). Both ask the same two questions here:

* `Dispatch`: which units are ready (every dependency finished), best first by critical-path
  priority, within the per-group concurrency caps? Each unit counts its unfinished dependencies; at
  zero it enters a heap keyed by (-priority, position). `take(n)` pops the best units whose group
  is under its cap (units a cap holds back are put back), `finish(u)` decrements its dependents'
  counters and makes ready those that reach zero. O(log n) per unit and edge.
* `blocked_by`: given how a unit's dependencies ended, must it be skipped, and with which reason?
  A failure isolates its dependents; the skip of a dependent isolates the next level, and every
  reason names the failed unit at the root of the chain.

Example: edges a -> c, b -> c, priority {a: 2, b: 1, c: 1}, one slot: take() -> [a]; finish(a);
take() -> [b]; finish(b) -> [c] is ready. If a had failed, `blocked_by([("a", failed)])` gives
c the outcome "skipped: dependency a failed: ...", and c's own dependents get
"dependency c skipped (root cause: a failed)".
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

WAITING, READY, RUNNING, DONE = "waiting", "ready", "running", "done"
MAX_REASON = 300   # characters of a dependency's message quoted in a dependent's skip reason


@dataclass(frozen=True)
class Outcome:
    """How a unit ended, as far as its dependents care.

    `status` is ok, failed, error or skipped; `isolating` says whether dependents must be skipped
    (the producer decides: the runner isolates on every failure, pytest suites on errors and, when
    marked, on failures); `root_cause` is set on skips caused by a failed dependency.
    """

    status: str
    message: str = ""
    isolating: bool = False
    root_cause: str | None = None


def blocked_by(dependencies: Iterable[tuple[str, Outcome]]) -> Outcome | None:
    """The skip outcome of a unit whose dependencies (id, outcome) ended so, or None when it may run.

    The first isolating dependency in id order is named; a dependency that was itself skipped
    passes its root cause on, so the reason always names the failed unit at the root.
    """
    for dependency, outcome in sorted(dependencies, key=lambda pair: pair[0]):
        if not outcome.isolating:
            continue
        if outcome.root_cause is not None:
            return Outcome("skipped", f"dependency {dependency} skipped (root cause: {outcome.root_cause} failed)",
                           isolating=True, root_cause=outcome.root_cause)
        message = _one_line(outcome.message)
        reason = f"dependency {dependency} failed: {message}" if message else f"dependency {dependency} failed"
        return Outcome("skipped", reason, isolating=True, root_cause=dependency)
    return None


def _one_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= MAX_REASON else line[:MAX_REASON - 1] + "…"


class Dispatch(Generic[K]):
    """Readiness, priority and group caps over units with dependencies (an acyclic relation).

    `units` fixes the tie-break order (earlier first among equal priorities). `dependencies` maps a
    unit to the units it waits for; names that are not units are ignored. `priority` defaults to 1
    per unit (higher goes first). `group` maps a unit to its cap group (None: uncapped); `caps`
    gives the most units of a group that may run at once.

    Units are waiting, ready, running or done. Units never released (on a cycle) stay waiting;
    `stalled` tells when nothing can move any more.
    """

    def __init__(self, units: Sequence[K], dependencies: Mapping[K, Iterable[K]], *,
                 priority: Mapping[K, float] | None = None, group: Callable[[K], str | None] | None = None,
                 caps: Mapping[str, int] | None = None) -> None:
        self._position = {unit: n for n, unit in enumerate(units)}
        if len(self._position) != len(units):
            raise ValueError("units must be distinct")
        self._priority = {u: float(priority.get(u, 1.0)) if priority else 1.0 for u in units}
        self._group = {u: group(u) for u in units} if group else dict.fromkeys(units)
        self._caps = {name: cap for name, cap in (caps or {}).items() if cap is not None}
        self._dependencies: dict[K, tuple[K, ...]] = {}
        self._dependents: dict[K, list[K]] = {u: [] for u in units}
        for unit in units:
            known = tuple(d for d in dict.fromkeys(dependencies.get(unit, ())) if d in self._position and d != unit)
            self._dependencies[unit] = known
            for dependency in known:
                self._dependents[dependency].append(unit)
        self._unfinished = {u: len(d) for u, d in self._dependencies.items()}
        self._unstarted = dict(self._unfinished)     # dependencies not yet running or done
        self._state: dict[K, str] = {}
        self._ready: list[tuple[float, int, K]] = []
        self._early: list[tuple[float, int, K]] = []  # waiting units whose dependencies all started
        self._running_in: Counter[str | None] = Counter()
        self._count: Counter[str] = Counter()
        for unit in units:
            self._set(unit, WAITING)
            if self._unfinished[unit] == 0:
                self._make_ready(unit)

    # -- queries ----------------------------------------------------------------------------------
    def state(self, unit: K) -> str:
        return self._state[unit]

    def dependencies(self, unit: K) -> tuple[K, ...]:
        """The units `unit` waits for (only those that are units), in the order given."""
        return self._dependencies[unit]

    def dependents(self, unit: K) -> tuple[K, ...]:
        return tuple(self._dependents[unit])

    def priority(self, unit: K) -> float:
        return self._priority[unit]

    def group(self, unit: K) -> str | None:
        return self._group[unit]

    def cap(self, unit: K) -> int | None:
        """The concurrency cap of the unit's group (None: uncapped)."""
        name = self._group[unit]
        return None if name is None else self._caps.get(name)

    def count(self, state: str) -> int:
        """How many units are in `state`."""
        return self._count[state]

    @property
    def finished(self) -> bool:
        """Every unit is done."""
        return self._count[DONE] == len(self._state)

    @property
    def stalled(self) -> bool:
        """Nothing is ready or running, yet units remain (they wait on a cycle)."""
        return not self._count[READY] and not self._count[RUNNING] and not self.finished

    def units(self, state: str) -> list[K]:
        """The units in `state`, in the order given at construction."""
        return [u for u in self._position if self._state[u] == state]

    def admits(self, unit: K) -> bool:
        """True when the unit's group is under its cap (counting running units)."""
        cap = self.cap(unit)
        return cap is None or self._running_in[self._group[unit]] < cap

    def ready(self) -> list[K]:
        """The ready units, best first (priority, then position)."""
        return [u for _, _, u in sorted(self._ready) if self._state[u] == READY]

    # -- transitions ------------------------------------------------------------------------------
    def take(self, limit: int | None = None, *, admit: bool = True,
             accept: Callable[[K], bool] | None = None) -> list[K]:
        """Start up to `limit` ready units, best first. With `admit`, units whose group is at its
        cap are left ready; `accept` can refuse others. Taken units are running."""
        taken: list[K] = []
        held: list[tuple[float, int, K]] = []
        while self._ready and (limit is None or len(taken) < limit):
            entry = heapq.heappop(self._ready)
            unit = entry[2]
            if self._state[unit] != READY:
                continue                               # a stale entry
            if (admit and not self.admits(unit)) or (accept is not None and not accept(unit)):
                held.append(entry)
                continue
            self.start(unit)
            taken.append(unit)
        for entry in held:
            heapq.heappush(self._ready, entry)
        return taken

    def early(self, limit: int = 1, *, prefer: Callable[[K], bool] | None = None,
              accept: Callable[[K], bool] | None = None, scan: int = 64) -> list[K]:
        """Up to `limit` waiting units whose dependencies have all started (running or done), best
        first; among the best `scan`, those `prefer` accepts come first; `accept` can refuse some.
        Nothing changes state."""
        candidates: list[tuple[float, int, K]] = []
        stale = 0
        for entry in heapq.nsmallest(scan + limit, self._early):
            unit = entry[2]
            if self._state[unit] == WAITING and self._unstarted[unit] == 0:
                if accept is None or accept(unit):
                    candidates.append(entry)
            else:
                stale += 1
        if stale > len(self._early) // 2:   # keep the lazy heap from filling with stale entries
            self._early = [e for e in self._early if self._state[e[2]] == WAITING and self._unstarted[e[2]] == 0]
            heapq.heapify(self._early)
        if prefer is not None:
            candidates.sort(key=lambda e: (not prefer(e[2]), e))
        return [unit for _, _, unit in candidates[:limit]]

    def start(self, unit: K) -> None:
        """Mark a ready (or, for early dispatch, waiting) unit as running."""
        if self._state[unit] not in (READY, WAITING):
            raise ValueError(f"{unit!r} is {self._state[unit]}, it cannot start")
        self._set(unit, RUNNING)
        self._running_in[self._group[unit]] += 1
        for dependent in self._dependents[unit]:
            self._unstarted[dependent] -= 1
            if self._unstarted[dependent] == 0 and self._state[dependent] == WAITING:
                heapq.heappush(self._early, self._key(dependent))

    def finish(self, unit: K) -> list[K]:
        """Mark a running unit done; returns the units that became ready, best first."""
        if self._state[unit] != RUNNING:
            raise ValueError(f"{unit!r} is {self._state[unit]}, it cannot finish")
        self._set(unit, DONE)
        self._running_in[self._group[unit]] -= 1
        released = []
        for dependent in self._dependents[unit]:
            self._unfinished[dependent] -= 1
            if self._unfinished[dependent] == 0 and self._state[dependent] == WAITING:
                self._make_ready(dependent)
                released.append(dependent)
        return sorted(released, key=self._key)

    def requeue(self, unit: K) -> None:
        """A running unit goes back to ready or waiting (its worker died before it ran)."""
        if self._state[unit] != RUNNING:
            raise ValueError(f"{unit!r} is {self._state[unit]}, it cannot be requeued")
        self._running_in[self._group[unit]] -= 1
        for dependent in self._dependents[unit]:
            self._unstarted[dependent] += 1
        self._set(unit, WAITING)
        if self._unfinished[unit] == 0:
            self._make_ready(unit)
        elif self._unstarted[unit] == 0:
            heapq.heappush(self._early, self._key(unit))

    def order(self) -> Iterator[K]:
        """Run everything one unit at a time, best ready unit first (caps are moot): a topological
        order with critical-path priority. Consumes this Dispatch."""
        while True:
            step = self.take(1, admit=False)
            if not step:
                return
            yield step[0]
            self.finish(step[0])

    # -- helpers ----------------------------------------------------------------------------------
    def _key(self, unit: K) -> tuple[float, int, K]:
        return (-self._priority[unit], self._position[unit], unit)

    def _set(self, unit: K, state: str) -> None:
        previous = self._state.get(unit)
        if previous is not None:
            self._count[previous] -= 1
        self._state[unit] = state
        self._count[state] += 1

    def _make_ready(self, unit: K) -> None:
        self._set(unit, READY)
        heapq.heappush(self._ready, self._key(unit))
