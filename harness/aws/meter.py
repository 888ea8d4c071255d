"""Counts every AWS call by (service, operation, account, region, outcome), with latency.

Outcomes, one per call (the worst thing that happened to it):
`ok` first attempt succeeded · `retried` succeeded after retrying a transient error ·
`throttled` succeeded after at least one throttling response · `failed` ended in an error.

The meter is per process; xdist workers send `snapshot()` (plain JSON-able data) to the controller,
which `merge()`s them, so the run's `summary.api_calls` covers every worker.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OUTCOMES = ("ok", "retried", "throttled", "failed")
SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class CallKey:
    """The dimensions a call is counted under."""

    service: str
    operation: str
    account: str
    region: str
    outcome: str

    @property
    def operation_name(self) -> str:
        """`service.Operation`, e.g. `s3.ListBuckets`."""
        return f"{self.service}.{self.operation}"


@dataclass
class _Tally:
    calls: int = 0
    attempts: int = 0
    throttles: int = 0           # throttling responses seen (a call can see several)
    retried_calls: int = 0       # calls that needed more than one attempt
    throttled_calls: int = 0     # calls that saw at least one throttling response
    latency_total: float = 0.0   # seconds, including backoff waits
    latency_max: float = 0.0

    def add(self, other: _Tally) -> None:
        for f in dataclasses.fields(self):
            if f.name != "latency_max":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.latency_max = max(self.latency_max, other.latency_max)


_KEY_FIELDS = tuple(f.name for f in dataclasses.fields(CallKey))
_TALLY_FIELDS = tuple(f.name for f in dataclasses.fields(_Tally))


def outcome_of(*, failed: bool, attempts: int, throttles: int) -> str:
    """The outcome label of a finished call."""
    if failed:
        return "failed"
    if throttles:
        return "throttled"
    return "retried" if attempts > 1 else "ok"


class ApiMeter:
    """Thread-safe call counters. `summary()` is the shape that goes into `summary.api_calls`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[CallKey, _Tally] = {}

    def record(self, key: CallKey, *, attempts: int = 1, throttles: int = 0, latency: float = 0.0) -> None:
        """Count one finished call."""
        if key.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {key.outcome!r}")
        one = _Tally(calls=1, attempts=attempts, throttles=throttles,
                     retried_calls=int(attempts > 1), throttled_calls=int(throttles > 0),
                     latency_total=latency, latency_max=latency)
        self._add(key, one)

    def _add(self, key: CallKey, tally: _Tally) -> None:
        with self._lock:
            self._tallies.setdefault(key, _Tally()).add(tally)

    def _matching(self, operation_name: str | None, outcome: str | None = None,
                  account: str | None = None, region: str | None = None) -> list[_Tally]:
        with self._lock:
            return [dataclasses.replace(t) for k, t in self._tallies.items()
                    if (operation_name is None or k.operation_name == operation_name)
                    and (outcome is None or k.outcome == outcome)
                    and (account is None or k.account == account)
                    and (region is None or k.region == region)]

    @property
    def total(self) -> int:
        """Calls counted so far."""
        return sum(t.calls for t in self._matching(None))

    def count(self, operation_name: str | None = None, *, outcome: str | None = None,
              account: str | None = None, region: str | None = None) -> int:
        """Calls matching every given filter (`operation_name` like `s3.ListBuckets`)."""
        return sum(t.calls for t in self._matching(operation_name, outcome, account, region))

    def attempts(self, operation_name: str | None = None) -> int:
        """HTTP attempts made (calls plus their retries), optionally for one operation."""
        return sum(t.attempts for t in self._matching(operation_name))

    def summary(self) -> dict[str, Any]:
        """`{"total", "by_operation": {"s3.ListBuckets": n, ...}, "retried", "throttled"}`.

        `retried` counts calls that needed more than one attempt, `throttled` calls that saw at least
        one throttling response (a call can be in both; calls that finally failed are included).
        """
        by_operation: dict[str, int] = {}
        total = retried = throttled = 0
        with self._lock:
            for key, tally in self._tallies.items():
                by_operation[key.operation_name] = by_operation.get(key.operation_name, 0) + tally.calls
                total += tally.calls
                retried += tally.retried_calls
                throttled += tally.throttled_calls
        return {"total": total, "by_operation": dict(sorted(by_operation.items())),
                "retried": retried, "throttled": throttled}

    def snapshot(self) -> dict[str, Any]:
        """Every counter as plain data (JSON-able), for sending to another process."""
        with self._lock:
            rows = [{**dataclasses.asdict(key), **dataclasses.asdict(tally)}
                    for key, tally in self._tallies.items()]
        rows.sort(key=lambda row: tuple(row[name] for name in _KEY_FIELDS))
        return {"version": SNAPSHOT_VERSION, "rows": rows}

    def merge(self, snapshot: Mapping[str, Any]) -> None:
        """Add another meter's `snapshot()` into this one."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported API meter snapshot version {snapshot.get('version')!r}")
        for row in snapshot.get("rows", ()):
            key = CallKey(**{name: row[name] for name in _KEY_FIELDS})
            self._add(key, _Tally(**{name: row[name] for name in _TALLY_FIELDS}))

    @classmethod
    def merged(cls, snapshots: Iterable[Mapping[str, Any]]) -> ApiMeter:
        """A meter holding the sum of several snapshots (e.g. one per xdist worker)."""
        meter = cls()
        for snapshot in snapshots:
            meter.merge(snapshot)
        return meter
