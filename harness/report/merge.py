"""Merge the drift.json documents of the shards of one run into the document an unsharded run writes.

Shards cover disjoint instances, so resource counts add up; findings and errors are concatenated
(duplicates, such as an unmanaged resource seen from two shards, are kept once) and the drift
counts are recounted from the merged findings exactly as `harness.drift.summary` counts them.
A suppression is stale for the whole run only when it matched nothing in any shard and the shards
together checked every deployable instance (each shard's `suppressions.tally` says which it checked);
an expired entry is listed once, with the findings it matched in every shard added up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from harness.aws.meter import ApiMeter, merge_scopes
from harness.drift.findings import Finding
from harness.drift.summary import finding_counts
from harness.drift.suppressions import stale_entries
from harness.errors import HarnessError
from harness.report.drift_json import SCHEMA

ADDED = ("instances", "resources", "checked", "unchecked")


def merge_documents(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One drift.json document for the whole run, from its shards' documents (in any order)."""
    if not documents:
        raise HarnessError("nothing to merge", hint="pass the folders (or drift.json files) of the shards")
    for document in documents:
        if document.get("schema") != SCHEMA:
            raise HarnessError(f"cannot merge schema {document.get('schema')!r} (expected {SCHEMA})")
    documents = sorted(documents, key=lambda d: (str(d["run"].get("shard") or ""), str(d["run"].get("started"))))
    findings = _unique(f for d in documents for f in d.get("findings", ()))
    findings.sort(key=lambda f: (f.get("stack") or "", f.get("component") or "", f.get("address", ""),
                                 f.get("kind", ""), f.get("path") or ""))
    errors = _unique(e for d in documents for e in d.get("errors", ())) + missing_shard_errors(documents)
    errors.sort(key=lambda e: (e.get("instance") or "", e.get("address") or ""))
    merged: dict[str, Any] = {
        "schema": SCHEMA,
        "run": _run(documents),
        "summary": _summary(documents, findings, errors),
        "findings": findings,
        "errors": errors,
    }
    graph = _graph(documents)
    if graph is not None:
        merged["graph"] = graph
    suppressions = _suppressions(documents, findings)
    if suppressions is not None:
        merged["suppressions"] = suppressions
    for extra in ("credentials",):          # lists other parts add to drift.json
        if any(extra in d for d in documents):
            merged[extra] = _unique(x for d in documents for x in d.get(extra) or ())
    return merged


def missing_shard_errors(documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An error per shard `I/N` that is absent: its instances were not checked, so the run is not clean."""
    labels = [str(d["run"].get("shard")) for d in documents if d["run"].get("shard")]
    if not labels:
        return []
    counts = {label.split("/")[1] for label in labels}
    if len(counts) != 1:
        raise HarnessError(f"the drift results come from different shardings ({', '.join(sorted(labels))})",
                           hint="merge the shards of one run only")
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise HarnessError(f"shard {', '.join(duplicated)} is given more than once",
                           hint="pass each shard's folder once")
    count = int(counts.pop())
    present = {int(label.split("/")[0]) for label in labels}
    return [{"instance": None, "address": None,
             "message": f"shard {n}/{count} wrote no drift.json: its instances were not checked"}
            for n in range(1, count + 1) if n not in present]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _unique(items: Any) -> list[Any]:
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(_key(item), item)
    return list(seen.values())


def _run(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    runs = [d["run"] for d in documents]
    selection: dict[str, Any] = {}
    for run in runs:
        for key, value in (run.get("selection") or {}).items():
            selection.setdefault(key, value)
    return {"started": min(str(r.get("started", "")) for r in runs),
            "finished": max(str(r.get("finished", "")) for r in runs),
            "repo": runs[0].get("repo", ""), "selection": selection,
            "workers": sum(int(r.get("workers", 1) or 1) for r in runs), "shard": None,
            "shards": [r.get("shard") for r in runs if r.get("shard")],
            "instances": sorted({i for r in runs for i in r.get("instances") or ()})}


def _summary(documents: Sequence[Mapping[str, Any]], findings: list[dict[str, Any]],
             errors: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {key: sum(int(d.get("summary", {}).get(key, 0) or 0) for d in documents) for key in ADDED}
    summary = {
        **totals,
        **finding_counts(Finding.from_json(f) for f in findings),
        "errors": len(errors),
        "api_calls": merge_api_calls(d.get("summary", {}).get("api_calls") or {} for d in documents),
    }
    checks = {d.get("summary", {}).get("unmanaged_check") for d in documents} - {None}
    if checks:
        summary["unmanaged_check"] = "on" if "on" in checks else "off"
    return summary


def merge_api_calls(summaries: Any) -> dict[str, Any]:
    """Sum `summary.api_calls` blocks (totals, per operation, per account/region with latency)."""
    by_operation: dict[str, int] = {}
    total = retried = throttled = failed = 0
    summaries = list(summaries)
    for block in summaries:
        total += int(block.get("total", 0) or 0)
        retried += int(block.get("retried", 0) or 0)
        throttled += int(block.get("throttled", 0) or 0)
        failed += int(block.get("failed", 0) or 0)
        for operation, count in (block.get("by_operation") or {}).items():
            by_operation[operation] = by_operation.get(operation, 0) + int(count)
    shape = ApiMeter().summary()            # the same keys an unsharded run writes
    return {**shape, "total": total, "by_operation": dict(sorted(by_operation.items())), "retried": retried,
            "throttled": throttled, "failed": failed,
            "by_scope": merge_scopes(block.get("by_scope") or {} for block in summaries)}


def _graph(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    graphs = [d["graph"] for d in documents if d.get("graph")]
    if not graphs:
        return None
    nodes = {n[0]: list(n) for g in graphs for n in g.get("nodes", ())}
    edges = sorted({tuple(e) for g in graphs for e in g.get("edges", ())})
    return {"nodes": [nodes[k] for k in sorted(nodes)], "edges": [list(e) for e in edges]}


def _suppressions(documents: Sequence[Mapping[str, Any]], findings: list[dict[str, Any]]) -> dict[str, Any] | None:
    blocks = [d["suppressions"] for d in documents if d.get("suppressions") is not None]
    if not blocks:
        return None
    tallies = [b["tally"] for b in blocks if b.get("tally")]
    if tallies:
        stale = _stale_from_tallies(tallies)
    else:                                   # documents of unsharded runs (or older shards): their own lists
        used = {_entry_key(f["suppression"]) for f in findings if f.get("suppressed") and f.get("suppression")}
        stale = [e for e in _unique(e for b in blocks for e in b.get("stale") or ()) if _entry_key(e) not in used]
    merged = {k: v for b in blocks for k, v in b.items() if k not in ("expired", "stale", "tally")}
    return {**merged, "expired": _summed(e for b in blocks for e in b.get("expired") or ()), "stale": stale}


def _summed(entries: Any) -> list[dict[str, Any]]:
    """Entries once each (by identity), their `matched` counts added."""
    merged: dict[str, dict[str, Any]] = {}
    for entry in entries:
        key = _key({k: v for k, v in entry.items() if k != "matched"})
        if key not in merged:
            merged[key] = dict(entry)
        elif "matched" in entry:
            merged[key]["matched"] = int(merged[key].get("matched", 0)) + int(entry["matched"])
    return list(merged.values())


def _stale_from_tallies(tallies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Active entries that matched nothing in every shard, judged only when the shards together
    checked every deployable instance (as an unsharded run judges them)."""
    counts = {int(t.get("deployable", -1)) for t in tallies}
    covered = {i for t in tallies for i in t.get("covered") or ()}
    if len(counts) != 1 or len(covered) < counts.pop():
        return []
    return stale_entries(_summed(e for t in tallies for e in t.get("entries") or ()),
                         unmanaged_checked=any(t.get("unmanaged_checked") for t in tallies))


def _entry_key(entry: Mapping[str, Any]) -> str:
    """A suppression entry's identity: what it matches and who accepted it until when."""
    return _key({k: entry.get(k) for k in ("match", "reason", "owner", "expires")})
