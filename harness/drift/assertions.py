"""Readable test outcomes for drift: a compact table on failure, a warning for warn-severity drift."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from datetime import date
from typing import Any

from harness.drift.findings import Finding, InstanceResult, labelled_sides
from harness.drift.suppressions import Suppression, expired_suppression, today_utc

_WIDTH = 60


class DriftFound(AssertionError):
    """Unsuppressed drift of severity `fail`; pytest shows only its message (a table), no traceback."""


class SuppressionExpired(DriftFound):
    """A suppression whose expiry date has passed: it no longer suppresses and is itself a failure."""


class DriftWarning(UserWarning):
    """Unsuppressed drift in an environment whose profile says `drift_severity: warn`."""


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def _subject(finding: Finding) -> str:
    expired = expired_suppression(finding)
    note = f" (suppression expired on {expired['expires']})" if expired else ""
    return (finding.path or finding.kind) + note


def drift_table(findings: list[Finding]) -> str:
    """address | path | expected | actual, one line per finding (a set attribute's sides are labelled
    removed/added)."""
    rows = [("address", "kind/path", "expected (state)", "actual (live)")]
    rows += [(f.address, _subject(f), *labelled_sides(f.set_diff, _cell(f.expected), _cell(f.actual)))
             for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def _failing(findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(failing, warning) unsuppressed findings: an expired acceptance fails whatever the severity."""
    live = [f for f in findings if not f.suppressed]
    failing = [f for f in live if f.severity == "fail" or expired_suppression(f)]
    return failing, [f for f in live if f not in failing]


def assert_no_drift(result: InstanceResult) -> None:
    """Fail on unsuppressed drift of severity `fail` (or under an expired suppression); warn (and pass)
    on severity `warn`."""
    __tracebackhide__ = True
    failing, warning = _failing(result.findings)
    if warning:
        warnings.warn(DriftWarning(f"{result.instance}: {len(warning)} drift finding(s) (severity warn)\n"
                                   + drift_table(warning)), stacklevel=2)
    if failing:
        raise DriftFound(f"{result.instance}: {len(failing)} drift finding(s)\n{drift_table(failing)}")
    if result.unchecked:
        warnings.warn(f"{result.instance}: {result.unchecked} resource(s) of unsupported types not checked: "
                      + ", ".join(sorted(result.unchecked_types)), stacklevel=2)


def assert_no_unmanaged(scope: str, findings: Iterable[Finding]) -> None:
    """Fail on unsuppressed unmanaged resources of severity `fail`; warn on severity `warn`."""
    __tracebackhide__ = True
    failing, warning = _failing(findings)
    if warning:
        warnings.warn(DriftWarning(f"{scope}: {len(warning)} unmanaged resource(s) (severity warn)\n"
                                   + drift_table(warning)), stacklevel=2)
    if failing:
        rows = [f.with_changes(path=f"stack {f.stack}" if f.stack else "no stack") for f in failing]
        raise DriftFound(f"{scope}: {len(failing)} unmanaged resource(s) (live, marked as ours, in no state)\n"
                         + drift_table(rows))


def assert_no_expired_suppressions(entries: Iterable[Suppression], *, today: date | None = None) -> None:
    """Fail listing every suppression whose expiry date has passed."""
    __tracebackhide__ = True
    today = today or today_utc()
    expired = [e for e in entries if e.expired(today)]
    if expired:
        lines = [f"{e.source}: suppression expired on {e.expires.isoformat()} (owner {e.owner}; {e.reason}; "
                 f"match {json.dumps(dict(e.match), sort_keys=True)})" for e in expired]
        raise SuppressionExpired(f"{len(expired)} suppression(s) expired:\n" + "\n".join(lines))
