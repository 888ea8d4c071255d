"""Readable test outcomes for drift: a compact table on failure, a warning for warn-severity drift."""

from __future__ import annotations

import json
import warnings
from typing import Any

from harness.drift.findings import Finding, InstanceResult

_WIDTH = 60


class DriftFound(AssertionError):
    """Unsuppressed drift of severity `fail`; pytest shows only its message (a table), no traceback."""


class DriftWarning(UserWarning):
    """Unsuppressed drift in an environment whose profile says `drift_severity: warn`."""


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def drift_table(findings: list[Finding]) -> str:
    """address | path | expected | actual, one line per finding."""
    rows = [("address", "kind/path", "expected (state)", "actual (live)")]
    rows += [(f.address, f.path or f.kind, _cell(f.expected), _cell(f.actual)) for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def assert_no_drift(result: InstanceResult) -> None:
    """Fail on unsuppressed drift of severity `fail`; warn (and pass) on severity `warn`."""
    __tracebackhide__ = True
    live = [f for f in result.findings if not f.suppressed]
    failing = [f for f in live if f.severity == "fail"]
    warning = [f for f in live if f.severity != "fail"]
    if warning:
        warnings.warn(DriftWarning(f"{result.instance}: {len(warning)} drift finding(s) (severity warn)\n"
                                   + drift_table(warning)), stacklevel=2)
    if failing:
        raise DriftFound(f"{result.instance}: {len(failing)} drift finding(s)\n{drift_table(failing)}")
    if result.unchecked:
        warnings.warn(f"{result.instance}: {result.unchecked} resource(s) of unsupported types not checked: "
                      + ", ".join(sorted(result.unchecked_types)), stacklevel=2)
