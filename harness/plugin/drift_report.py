"""Controller side of the drift engine: unmanaged findings and the suppression report for drift.json."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from harness.drift.findings import EvaluationError, Finding, InstanceResult
from harness.drift.suppressions import Suppression, suppression_report, today_utc
from harness.drift.unmanaged import UnmanagedResult
from harness.errors import HarnessError
from harness.plugin.collector import RunCollector
from harness.plugin.session import HarnessSession
from harness.plugin.sharding import shard_spec
from harness.plugin.suppression_fixtures import file_suppressions

log = logging.getLogger(__name__)
UNMANAGED_SUITE = "test_unmanaged"


@dataclass(frozen=True)
class DriftExtras:
    """What drift.json needs beyond the per-instance results."""

    unmanaged: tuple[Finding, ...] = ()
    errors: tuple[EvaluationError, ...] = ()
    suppressions: dict[str, Any] = field(default_factory=lambda: {"expired": [], "stale": []})
    unmanaged_check: str = "off"


def drift_extras(session: HarnessSession, collector: RunCollector, results: list[InstanceResult]) -> DriftExtras:
    """Unmanaged findings and errors from the `test_unmanaged` items, and expired/stale suppressions."""
    unmanaged: list[Finding] = []
    errors: list[EvaluationError] = []
    ran = False
    for record in sorted(collector.items.values(), key=lambda r: r.instance):
        if record.suite != UNMANAGED_SUITE:
            continue
        if "unmanaged" in record.facts:
            ran = True
            result = UnmanagedResult.from_json(record.facts["unmanaged"])
            unmanaged.extend(result.findings)
            errors.extend(result.errors)
        elif record.outcome in ("error", "failed"):
            errors.append(EvaluationError(None, f"{record.instance}: {record.message or 'unmanaged check failed'}"))
    entries, scope = _entries(session, collector)
    drift_instances = {r.instance for r in collector.drift_records()}
    deployable = {i.id for i in session.stack_set.deployable}
    findings = [f for r in results for f in r.findings] + unmanaged
    report = suppression_report(entries, findings, today=today_utc(), full_run=deployable <= drift_instances,
                                unmanaged_checked=ran, scope=scope)
    suppressions = report.to_json()
    if shard_spec(session.pytest_config) is not None:
        # what `report merge` needs to judge stale entries for the whole run
        suppressions["tally"] = {"entries": [dict(e) for e in report.tally],
                                 "covered": sorted(drift_instances & deployable), "deployable": len(deployable),
                                 "unmanaged_checked": ran}
    return DriftExtras(unmanaged=tuple(unmanaged), errors=tuple(errors), suppressions=suppressions,
                       unmanaged_check="on" if session.config.unmanaged.enabled else "off")


def _entries(session: HarnessSession, collector: RunCollector) -> tuple[list[Suppression], dict[str, set[str]]]:
    """The file's entries and every marker entry items reported (with the instances each applied to)."""
    try:
        entries = list(file_suppressions(session))
    except HarnessError as exc:   # already an error on every drift item
        log.debug("suppressions not reported: %s", exc)
        entries = []
    scope: dict[str, set[str]] = {}
    for record in collector.items.values():
        for data in record.facts.get("expected_drift") or ():
            entry = Suppression.from_json(data)
            if entry.id not in scope:
                entries.append(entry)
            scope.setdefault(entry.id, set()).add(record.instance)
    return entries, scope


def suppression_lines(document: dict[str, Any]) -> list[str]:
    """Terminal summary lines: suppressed findings, expired and stale entries, and an unmanaged check
    that is off."""
    summary, report = document["summary"], document.get("suppressions") or {}
    lines = []
    if summary.get("suppressed") or report.get("expired") or report.get("stale"):
        lines.append(f"suppressions: {summary.get('suppressed', 0)} finding(s) suppressed, "
                     f"{len(report.get('expired', []))} expired entr(ies) (failures), "
                     f"{len(report.get('stale', []))} stale entr(ies) (matched nothing)")
    for entry in report.get("expired", []):
        lines.append(f"  expired: {entry['id']} on {entry['expires']} (owner {entry['owner']})")
    for entry in report.get("stale", []):
        lines.append(f"  stale:   {entry['id']} (owner {entry['owner']})")
    if summary.get("unmanaged_check") == "off":
        lines.append("unmanaged check: off (set unmanaged.tag_keys or unmanaged.name_prefixes to turn it on)")
    return lines
