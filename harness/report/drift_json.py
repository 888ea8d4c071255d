"""The `stackharness.drift/v1` document: the one source every other report is rendered from."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.drift.findings import EvaluationError, Finding, InstanceResult
from harness.drift.summary import summarise
from harness.graph import DependencyGraph, GraphNode
from harness.log import Redactor

SCHEMA = "stackharness.drift/v1"


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run shown in every report header."""

    started: str                           # ISO 8601 UTC
    finished: str
    repo: str
    selection: Mapping[str, Any] = field(default_factory=dict)
    workers: int = 1
    shard: str | None = None               # "I/N" when the run was one shard of a sharded run
    instances: tuple[str, ...] = ()        # ids of the instances the run covered (history needs them)


def build_document(run: RunInfo, results: Iterable[InstanceResult], *, instances: int,
                   extra_errors: Iterable[EvaluationError] = (), unmanaged: Iterable[Finding] = (),
                   api_calls: Mapping[str, Any] | None = None, graph: Mapping[str, Any] | None = None,
                   suppressions: Mapping[str, Any] | None = None, unmanaged_check: str | None = None,
                   redactor: Redactor) -> dict[str, Any]:
    """Assemble drift.json from the instance results; every string goes through the redactor.

    `graph` (see `graph_section`) keeps the run's dependency graph, so every report can be
    rendered again from drift.json alone. `suppressions` is `{"expired": [...], "stale": [...]}`
    (see `harness.drift.suppressions`), plus a shard's `tally` (see `harness.plugin.drift_report`);
    `unmanaged_check` (`on`/`off`) goes into the summary.
    """
    results = sorted(results, key=lambda r: r.instance)
    unmanaged = list(unmanaged)
    extra_errors = list(extra_errors)
    findings = [f for r in results for f in r.findings] + unmanaged
    errors = [e for r in results for e in r.errors] + extra_errors
    document = {
        "schema": SCHEMA,
        "run": {"started": run.started, "finished": run.finished, "repo": run.repo,
                "selection": dict(run.selection), "workers": run.workers, "shard": run.shard,
                "instances": sorted(run.instances)},
        "summary": summarise(results, instances=instances, extra_errors=extra_errors, unmanaged=unmanaged,
                             api_calls=api_calls),
        "findings": [f.to_json() for f in sorted(findings, key=_finding_order)],
        "errors": [e.to_json() for e in sorted(errors, key=lambda e: (e.instance or "", e.address or ""))],
        "suppressions": {"expired": list((suppressions or {}).get("expired", [])),
                         "stale": list((suppressions or {}).get("stale", []))},
    }
    if (suppressions or {}).get("tally") is not None:     # a shard's counts for `report merge`
        document["suppressions"]["tally"] = dict(suppressions["tally"])
    if graph is not None:
        document["graph"] = dict(graph)
    if unmanaged_check is not None:
        document["summary"]["unmanaged_check"] = unmanaged_check
    return redactor.redact_obj(document)


def graph_section(graph: DependencyGraph) -> dict[str, Any]:
    """The `graph` part of drift.json: nodes `[id, component, stack, environment_type]` and edges
    `[dependency, dependent]`, compact because a nightly run may hold thousands of instances."""
    return {"nodes": [list(n) for n in graph.node_infos()], "edges": [list(e) for e in graph.edges]}


def graph_of(document: Mapping[str, Any]) -> DependencyGraph | None:
    """The run's dependency graph back from drift.json (None when the document has none)."""
    section = document.get("graph")
    if not section:
        return None
    return DependencyGraph((GraphNode(*n) for n in section.get("nodes", ())),
                           (tuple(e) for e in section.get("edges", ())))


def _finding_order(finding: Finding) -> tuple[str, ...]:
    return (finding.stack or "", finding.component or "", finding.address, finding.kind, finding.path)


def write_json(path: Path, document: Mapping[str, Any]) -> Path:
    """Write JSON atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
    os.replace(tmp, path)
    return path


def read_document(path: Path) -> dict[str, Any]:
    """Load a drift.json written by `write_json`, checking its schema."""
    from harness.errors import HarnessError

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HarnessError(f"cannot read drift results: {exc}", where=path,
                           hint="point at a drift.json written by stackharness") from None
    if document.get("schema") != SCHEMA:
        raise HarnessError(f"unexpected schema {document.get('schema')!r} (expected {SCHEMA})", where=path)
    return document
