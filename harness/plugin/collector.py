"""Controller side: gather every item's facts and outcome, then write drift.json and the HTML report."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.aws.meter import ApiMeter
from harness.drift.findings import EvaluationError, InstanceResult
from harness.plugin.transport import crash_payload, payload

log = logging.getLogger(__name__)


def utc_now() -> str:
    """The current time as ISO 8601 UTC with seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ItemRecord:
    """What the controller knows about one item after its reports arrived."""

    instance: str
    suite: str
    facts: dict[str, Any] = field(default_factory=dict)
    outcome: str = "passed"                # passed | failed | error | skipped
    message: str = ""
    crashed: bool = False                  # its worker died while running it


@dataclass
class RunCollector:
    """Accumulates item records from reports (in-process or from xdist workers)."""

    started: str = field(default_factory=utc_now)
    items: dict[str, ItemRecord] = field(default_factory=dict)
    workers: set[str] = field(default_factory=set)
    meters: dict[str, dict[str, Any]] = field(default_factory=dict)   # worker -> latest meter snapshot

    def add(self, report: pytest.TestReport, *, instance_ids: Callable[[], Collection[str]] | None = None) -> None:
        """Record a report. A failed report without payload (xdist's report of a crashed worker) counts
        for the instance its node id names among `instance_ids()` (read only for such reports)."""
        data = payload(report)
        if data is None and report.failed and instance_ids is not None:
            data = crash_payload(report, instance_ids())
        if data is None:
            return
        record = self.items.setdefault(report.nodeid, ItemRecord(data["instance"], data["suite"]))
        record.facts.update(data.get("facts") or {})
        self.workers.add(data.get("worker", "main"))
        if data.get("api_calls"):
            self.meters[data.get("worker", "main")] = data["api_calls"]
        outcome = _outcome(report)
        if data.get("crashed"):
            outcome, message = "error", f"worker crashed while checking {data['instance']} ({_message(report)})"
        else:
            message = _message(report) if outcome != "passed" else ""
        if data.get("crashed") or (outcome != "passed" and record.outcome in ("passed", "skipped")):
            record.outcome, record.message = outcome, message
        record.crashed = record.crashed or bool(data.get("crashed"))

    def api_calls(self) -> dict[str, Any]:
        """`summary.api_calls` over every worker's latest meter snapshot."""
        return ApiMeter.merged(self.meters.values()).summary()

    @property
    def empty(self) -> bool:
        return not self.items

    def drift_records(self) -> list[ItemRecord]:
        """Records of drift-suite items (those that use the `drift_result` fixture)."""
        return [r for r in self.items.values() if r.suite == "test_drift"]

    def credential_rows(self) -> list[dict[str, Any]] | None:
        """Every credential row the credential items recorded, each credential once, by days left;
        None when no item checked credentials (an empty list: checked, none found)."""
        from harness.credentials.model import row_order

        checked = [r for r in self.items.values() if "credentials" in r.facts]
        if not checked:
            return None
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for record in sorted(checked, key=lambda r: r.instance):
            for row in record.facts["credentials"] or ():
                rows.setdefault((row["kind"], row["id"]), row)
        return sorted(rows.values(), key=row_order)

    def drift_results(self) -> tuple[list[InstanceResult], list[EvaluationError]]:
        """Instance results, and errors for drift items that produced no result (never counted clean)."""
        results, errors = [], []
        for record in sorted(self.drift_records(), key=lambda r: r.instance):
            if "drift" in record.facts:
                results.append(InstanceResult.from_json(record.facts["drift"]))
                if record.crashed:   # checked in setup, then the worker died: the item did not finish
                    errors.append(EvaluationError(record.instance, record.message))
            elif record.outcome in ("error", "failed"):
                errors.append(EvaluationError(record.instance, record.message or "could not be evaluated"))
            elif record.outcome == "skipped":
                errors.append(EvaluationError(record.instance, f"not checked: {record.message}"))
        return results, errors


def _outcome(report: pytest.TestReport) -> str:
    if report.skipped:
        return "skipped"
    if report.failed:
        return "failed" if report.when == "call" else "error"
    return "passed"


def _message(report: pytest.TestReport) -> str:
    """A one-paragraph reason: the skip reason or the exception's message."""
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple):
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(longrepr or "").strip().splitlines()[-1] if longrepr else ""
