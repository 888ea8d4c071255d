"""Counts every AWS call by (service, operation, account, region, outcome), with latency.

Outcomes, one per call (the worst thing that happened to it):
`ok` first attempt succeeded · `retried` succeeded after retrying a transient error ·
`throttled` succeeded after at least one throttling response · `failed` ended in an error.

The meter is per process; xdist workers send `snapshot()` (plain JSON-able data) to the controller,
which `merge()`s them, so the run's `summary.api_calls` covers every worker. Latency is kept as a
mergeable histogram (`harness.aws.latency`), so percentiles stay right after merging workers or shards.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.aws.latency import added, bucket, latency_ms

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
    latency_hist: dict[int, int] = field(default_factory=dict)   # latency bucket -> calls

    def add(self, other: _Tally) -> None:
        for f in dataclasses.fields(self):
            if f.name not in ("latency_max", "latency_hist"):
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.latency_max = max(self.latency_max, other.latency_max)
        self.latency_hist = added((self.latency_hist, other.latency_hist))


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
                     latency_total=latency, latency_max=latency,
                     latency_hist={bucket(latency * 1000): 1})
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
        """`{"total", "by_operation": {"s3.ListBuckets": n, ...}, "retried", "throttled", "failed", "by_scope"}`.

        `retried` counts calls that needed more than one attempt, `throttled` calls that saw at least
        one throttling response (a call can be in both; calls that finally failed are included),
        `failed` calls that ended in an error. `by_scope` has the same counts and latency per
        `account/region` (see `scope_summary`).
        """
        by_operation: dict[str, int] = {}
        scopes: dict[str, dict[str, Any]] = {}
        with self._lock:
            tallies = list(self._tallies.items())
        for key, tally in tallies:
            by_operation[key.operation_name] = by_operation.get(key.operation_name, 0) + tally.calls
            scope = scopes.setdefault(f"{key.account}/{key.region}", {
                "account": key.account, "region": key.region, "calls": 0, "failed": 0, "throttled": 0,
                "retried": 0, "latency_max_ms": 0.0, "latency_hist": {}})
            scope["calls"] += tally.calls
            scope["failed"] += tally.calls if key.outcome == "failed" else 0
            scope["throttled"] += tally.throttled_calls
            scope["retried"] += tally.retried_calls
            scope["latency_max_ms"] = max(scope["latency_max_ms"], tally.latency_max * 1000)
            scope["latency_hist"] = added((scope["latency_hist"], tally.latency_hist))
        by_scope = {name: scope_summary(scope) for name, scope in sorted(scopes.items())}
        return {"total": sum(s["calls"] for s in by_scope.values()),
                "by_operation": dict(sorted(by_operation.items())),
                "retried": sum(s["retried"] for s in by_scope.values()),
                "throttled": sum(s["throttled"] for s in by_scope.values()),
                "failed": sum(s["failed"] for s in by_scope.values()), "by_scope": by_scope}

    def snapshot(self) -> dict[str, Any]:
        """Every counter as plain data (JSON-able), for sending to another process."""
        with self._lock:
            rows = [{**dataclasses.asdict(key), **dataclasses.asdict(tally),
                     "latency_hist": {str(k): n for k, n in sorted(tally.latency_hist.items())}}
                    for key, tally in self._tallies.items()]
        rows.sort(key=lambda row: tuple(row[name] for name in _KEY_FIELDS))
        return {"version": SNAPSHOT_VERSION, "rows": rows}

    def merge(self, snapshot: Mapping[str, Any]) -> None:
        """Add another meter's `snapshot()` into this one."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported API meter snapshot version {snapshot.get('version')!r}")
        for row in snapshot.get("rows", ()):
            key = CallKey(**{name: row[name] for name in _KEY_FIELDS})
            tally = _Tally(**{name: row[name] for name in _TALLY_FIELDS if name != "latency_hist"})
            tally.latency_hist = added([row.get("latency_hist") or {}])
            self._add(key, tally)

    @classmethod
    def merged(cls, snapshots: Iterable[Mapping[str, Any]]) -> ApiMeter:
        """A meter holding the sum of several snapshots (e.g. one per xdist worker)."""
        meter = cls()
        for snapshot in snapshots:
            meter.merge(snapshot)
        return meter


def scope_summary(scope: Mapping[str, Any]) -> dict[str, Any]:
    """One `by_scope` entry: account, region, calls, failed, throttled, retried, `latency_ms`
    (`p50`, `p95`, `max`; percentiles to within one histogram bucket) and `latency_hist` (bucket ->
    calls, kept so that shards can be merged)."""
    histogram = added([scope.get("latency_hist") or {}])
    top = float(scope.get("latency_max_ms") or 0.0)
    return {"account": scope["account"], "region": scope["region"],
            **{k: int(scope.get(k) or 0) for k in ("calls", "failed", "throttled", "retried")},
            "latency_ms": latency_ms(histogram, top),
            "latency_hist": {str(k): n for k, n in sorted(histogram.items())}}


def merge_scopes(blocks: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Add up `by_scope` sections (of several shards' drift.json)."""
    merged: dict[str, dict[str, Any]] = {}
    for block in blocks:
        for name, scope in block.items():
            into = merged.setdefault(name, {"account": scope.get("account"), "region": scope.get("region"),
                                            "latency_max_ms": 0.0, "latency_hist": {}})
            for k in ("calls", "failed", "throttled", "retried"):
                into[k] = into.get(k, 0) + int(scope.get(k) or 0)
            top = (scope.get("latency_ms") or {}).get("max")
            into["latency_max_ms"] = max(into["latency_max_ms"], float(top or 0.0))
            into["latency_hist"] = added((into["latency_hist"], scope.get("latency_hist") or {}))
    return {name: scope_summary(scope) for name, scope in sorted(merged.items())}
