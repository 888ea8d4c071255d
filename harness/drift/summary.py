"""Run-level counts from per-instance results, as `drift.json` reports them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.drift.findings import EvaluationError, Finding, InstanceResult


def summarise(results: Iterable[InstanceResult], *, instances: int, extra_errors: Iterable[EvaluationError] = (),
              unmanaged: Iterable[Finding] = (), api_calls: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Counts of resources (managed resource instances), except `suppressed` (findings) and `errors`.

    `changed` counts resources with at least one unsuppressed changed attribute; `missing` and
    `unmanaged` count unsuppressed findings of those kinds (one per resource).
    """
    results = list(results)
    findings = [f for r in results for f in r.findings] + list(unmanaged)
    errors = [e for r in results for e in r.errors] + list(extra_errors)
    return {
        "instances": instances,
        "resources": sum(r.resources for r in results),
        "checked": sum(r.checked for r in results),
        "unchecked": sum(r.unchecked for r in results),
        **finding_counts(findings),
        "errors": len(errors),
        "api_calls": dict(api_calls or {"total": 0, "by_operation": {}, "retried": 0, "throttled": 0,
                                        "failed": 0, "by_scope": {}}),
    }


def finding_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """`changed` (resources with an unsuppressed changed attribute), `missing`, `unmanaged` (unsuppressed
    findings, one per resource) and `suppressed` (findings)."""
    findings = list(findings)
    live = [f for f in findings if not f.suppressed]
    return {
        "changed": len({(f.instance, f.address) for f in live if f.kind == "changed"}),
        "missing": sum(1 for f in live if f.kind == "missing"),
        "unmanaged": sum(1 for f in live if f.kind == "unmanaged"),
        "suppressed": len(findings) - len(live),
    }
