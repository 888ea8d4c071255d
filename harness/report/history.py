"""Run history: one drift.json per run in a folder, and what it says about each finding over time.

Every finding has a stable fingerprint (instance, address, kind, path; see `Finding.fingerprint`).
Reading the runs oldest first gives, per fingerprint, `first_seen`, `last_seen` and `runs_seen`,
and a status for the latest run:

    new        in the latest run, in no earlier run kept in the history
    recurring  in the latest run and in some earlier run (right before it, or back after a gap)
    resolved   in the previous run, not in the latest, and the latest run did check it

"Did check it" matters: a finding of an instance that the latest run did not cover (another
selection or shard) or could not evaluate (an error) is not resolved, it is unknown — an error is
never counted as clean. Example with runs r1 {a, b}, r2 {b, c}, r3 {a, c}: for r3, `a` is
recurring (seen in r1), `c` is recurring, `b` is resolved; `a` has runs_seen 2, first_seen r1.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.drift.findings import Finding

log = logging.getLogger(__name__)

STATUSES = ("new", "recurring", "resolved")
TOTAL_KEYS = ("changed", "missing", "unmanaged", "suppressed", "errors")
_FILE = re.compile(r"^drift-.+\.json$")


@dataclass(frozen=True)
class RunTotals:
    """One run's point on the trend chart."""

    started: str
    changed: int
    missing: int
    unmanaged: int
    suppressed: int
    errors: int

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> RunTotals:
        summary = document.get("summary", {})
        return cls(str(document.get("run", {}).get("started", "")),
                   *(int(summary.get(key, 0) or 0) for key in TOTAL_KEYS))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FindingHistory:
    """A finding of the latest or the previous run, with its life so far."""

    fingerprint: str
    instance: str | None
    address: str
    kind: str
    path: str
    status: str                             # new | recurring | resolved
    first_seen: str
    last_seen: str
    runs_seen: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Trend:
    """Per-run totals (oldest first) and the latest run's findings classified."""

    runs: tuple[RunTotals, ...]
    findings: tuple[FindingHistory, ...]

    def to_json(self) -> dict[str, Any]:
        """`{"runs": [...], "findings": [...]}` as `stackharness report trend --format json` prints it."""
        return {"runs": [r.to_json() for r in self.runs], "findings": [f.to_json() for f in self.findings]}

    def counts(self) -> dict[str, int]:
        """How many findings are new, recurring and resolved."""
        return {status: sum(1 for f in self.findings if f.status == status) for status in STATUSES}

    def by_fingerprint(self) -> dict[str, FindingHistory]:
        return {f.fingerprint: f for f in self.findings}


def fingerprint(finding: Mapping[str, Any]) -> str:
    """The fingerprint of a finding as drift.json holds it."""
    return Finding.from_json(finding).fingerprint


def history_file_name(document: Mapping[str, Any]) -> str:
    """`drift-<started, with colons made safe for every file system>.json`."""
    started = str(document.get("run", {}).get("started") or "unknown")
    return "drift-" + re.sub(r"[^0-9A-Za-z.-]", "-", started) + ".json"


def append_run(history_dir: Path, document: Mapping[str, Any], *, retention: int) -> Path:
    """Store the run's drift.json in the history, then keep only the newest `retention` runs (0: all)."""
    history_dir.mkdir(parents=True, exist_ok=True)
    name = history_file_name(document)
    path = history_dir / name
    counter = 2
    while path.exists():                    # two runs started in the same second
        path = history_dir / name.replace(".json", f"-{counter}.json")
        counter += 1
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, separators=(",", ":"), default=str), encoding="utf-8")
    tmp.replace(path)
    prune(history_dir, retention)
    return path


def history_files(history_dir: Path) -> list[Path]:
    """The history's run files, oldest first (names sort by start time)."""
    if not history_dir.is_dir():
        return []
    return sorted((p for p in history_dir.iterdir() if p.is_file() and _FILE.match(p.name)), key=_file_order)


def _file_order(path: Path) -> tuple[str, int]:
    """`drift-<started>.json` before `drift-<started>-2.json` before `drift-<started>-3.json`."""
    stem = path.name.removeprefix("drift-").removesuffix(".json")
    match = re.match(r"^(.*Z)-(\d+)$", stem)
    return (match.group(1), int(match.group(2))) if match else (stem, 1)


def prune(history_dir: Path, retention: int) -> list[Path]:
    """Delete the oldest run files beyond `retention` (0 keeps every run); returns what was deleted."""
    files = history_files(history_dir)
    if retention <= 0 or len(files) <= retention:
        return []
    doomed = files[: len(files) - retention]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def load_history(history_dir: Path) -> list[dict[str, Any]]:
    """Every readable run document in the history, oldest first; unreadable files are skipped with a warning."""
    runs = []
    for path in history_files(history_dir):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("history: skipping %s: %s", path, exc)
            continue
        if not isinstance(document, dict) or "run" not in document:
            log.warning("history: skipping %s: not a drift.json document", path)
            continue
        runs.append(document)
    runs.sort(key=lambda d: str(d["run"].get("started", "")))
    return runs


def analyse(runs: Sequence[Mapping[str, Any]], *, last: int | None = None) -> Trend:
    """The trend of `runs` (oldest first): totals of the last `last` runs, findings of the latest run."""
    if not runs:
        return Trend((), ())
    seen: dict[str, list[str]] = {}          # fingerprint -> start times of the runs holding it
    details: dict[str, Mapping[str, Any]] = {}
    for document in runs:
        started = str(document["run"].get("started", ""))
        for finding in document.get("findings", ()):
            key = fingerprint(finding)
            times = seen.setdefault(key, [])
            if not times or times[-1] != started:
                times.append(started)
            details[key] = finding
    latest, previous = runs[-1], runs[-2] if len(runs) > 1 else None
    latest_keys = {fingerprint(f): f for f in latest.get("findings", ())}
    previous_keys = {fingerprint(f): f for f in previous.get("findings", ())} if previous else {}
    covered = _coverage(latest)
    findings = []
    for key, finding in latest_keys.items():
        earlier = len(seen[key]) > 1
        findings.append(_history(key, finding, "recurring" if earlier else "new", seen[key]))
    for key, finding in previous_keys.items():
        if key not in latest_keys and covered(finding):
            findings.append(_history(key, finding, "resolved", seen[key]))
    findings.sort(key=lambda f: (STATUSES.index(f.status), f.fingerprint))
    chosen = runs[-last:] if last else runs
    return Trend(tuple(RunTotals.of(d) for d in chosen), tuple(findings))


def _history(key: str, finding: Mapping[str, Any], status: str, times: list[str]) -> FindingHistory:
    return FindingHistory(fingerprint=key, instance=finding.get("instance"), address=str(finding.get("address", "")),
                          kind=str(finding.get("kind", "")), path=str(finding.get("path") or ""), status=status,
                          first_seen=times[0], last_seen=times[-1], runs_seen=len(times))


def _coverage(document: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate: did this run check the finding's instance (or, for unmanaged ones, its stack)?"""
    instances = set(document.get("run", {}).get("instances") or ())
    failed = {e.get("instance") for e in document.get("errors", ())}
    stacks = {i.rpartition("@")[2] for i in instances}

    def covered(finding: Mapping[str, Any]) -> bool:
        instance = finding.get("instance")
        if instance is None:                # unmanaged: judged per stack; a failed listing is unknown
            return None not in failed and (not instances or finding.get("stack") in stacks)
        return instance not in failed and (not instances or instance in instances)
    return covered


def trend_of(history_dir: Path, *, last: int | None = None) -> Trend:
    """`analyse(load_history(history_dir))`."""
    return analyse(load_history(history_dir), last=last)


def annotate(findings: Iterable[Mapping[str, Any]], trend: Trend) -> list[dict[str, Any]]:
    """The findings with their history (`status`, `first_seen`, `runs_seen`) where the trend knows them."""
    known = trend.by_fingerprint()
    out = []
    for finding in findings:
        entry = known.get(fingerprint(finding))
        extra = {"history": {"status": entry.status, "first_seen": entry.first_seen, "runs_seen": entry.runs_seen}
                 } if entry else {}
        out.append({**finding, **extra})
    return out
