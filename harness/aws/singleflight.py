"""A per-run cache where concurrent callers of the same key share one computation (single-flight).

The first caller of a key runs the function; callers arriving while it runs wait for its result;
later callers get the cached result. A failure is handed to the callers that waited for it but not
cached, so the next caller tries again. Results are shared objects: treat them as read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class SingleFlight:
    """Thread-safe; one instance per run (per worker process under xdist)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}
        self.hits = 0       # calls answered without running the function (waited or cached)
        self.misses = 0     # calls that ran the function

    def do(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value for `key`, computing it at most once at a time and once per run on success."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
                self.misses += 1
            else:
                self.hits += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            flight.value = compute()
        except BaseException as exc:
            flight.error = exc
            with self._lock:
                self._flights.pop(key, None)
            raise
        finally:
            flight.done.set()
        return flight.value

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one cached result, or all of them (in-flight computations finish unaffected)."""
        with self._lock:
            if key is None:
                self._flights = {k: f for k, f in self._flights.items() if not f.done.is_set()}
            elif key in self._flights and self._flights[key].done.is_set():
                del self._flights[key]
