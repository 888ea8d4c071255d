"""What the HTML drift report shows, computed from a drift.json document; the template only lays it out.

Findings go into the page as one compact JSON blob (every string once in a table, rows as lists of
indexes) that the page's script filters, groups and paginates, so 10,000 findings stay a few MB
and the browser only ever builds the rows of one page.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from harness.drift.findings import SENSITIVE_CHANGED, labelled_sides

UNMANAGED_COLUMN = "(unmanaged)"
NO_STACK = "(no stack)"
# Blob row layout; the page's script reads the same order (see drift-report.js.j2).
ROW_FIELDS = ("kind", "stack", "component", "instance", "address", "type", "resource_id", "path", "expected",
              "actual", "environment_type", "severity", "suppressed", "status", "first_seen", "runs_seen", "note",
              "upstream")


@dataclass(frozen=True)
class Card:
    """One summary number: `tone` is ok, warn, bad or neutral (the colour)."""

    key: str
    label: str
    value: int
    tone: str


# key, label, tone when the count is not zero (a zero is always ok for the bad/warn ones)
_CARDS = (("instances", "instances", "neutral"), ("checked", "resources checked", "ok"),
          ("unchecked", "unchecked", "warn"), ("changed", "changed", "bad"), ("missing", "missing", "bad"),
          ("unmanaged", "unmanaged", "bad"), ("suppressed", "suppressed", "warn"), ("errors", "errors", "bad"))


def cards(summary: Mapping[str, Any]) -> list[Card]:
    """The summary cards, coloured: red for drift and errors, amber for unchecked and suppressed."""
    out = []
    for key, label, tone in _CARDS:
        value = int(summary.get(key, 0) or 0)
        shown = tone if tone in ("neutral", "ok") or value else "ok"
        out.append(Card(key, label, value, shown))
    return out


def duration_text(started: str, finished: str) -> str:
    """`1h 02m 03s`, `4m 05s` or `12s` between two ISO 8601 times ('' when unparsable)."""
    try:
        seconds = int((_parse_time(finished) - _parse_time(started)).total_seconds())
    except ValueError:
        return ""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def header(document: Mapping[str, Any]) -> dict[str, Any]:
    """Facts for the page header: repo, times, duration, selection, workers, shard(s), API calls."""
    run, summary = document["run"], document.get("summary", {})
    api = summary.get("api_calls") or {}
    selection = run.get("selection") or {}
    return {
        "repo": run.get("repo", ""), "started": run.get("started", ""), "finished": run.get("finished", ""),
        "duration": duration_text(run.get("started", ""), run.get("finished", "")),
        "selection": " · ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                                for k, v in selection.items() if v) or "all instances",
        "workers": run.get("workers", 1), "shard": run.get("shard"),
        "shards": run.get("shards") or [],
        "api_total": api.get("total", 0), "api_throttled": api.get("throttled", 0),
        "api_retried": api.get("retried", 0), "api_failed": api.get("failed", 0),
        "api_scopes": [{"scope": name, **{k: scope.get(k, 0) for k in ("calls", "failed", "throttled", "retried")},
                        **{k: _ms(scope.get("latency_ms", {}).get(k)) for k in ("p50", "p95", "max")}}
                       for name, scope in sorted((api.get("by_scope") or {}).items())],
    }


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:g} ms"


# -- heat map ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeatMap:
    """Unsuppressed findings per stack (rows) x component (columns); `None` cells were not in the run."""

    stacks: tuple[str, ...]
    components: tuple[str, ...]
    cells: tuple[tuple[dict[str, Any] | None, ...], ...]
    hidden_stacks: int = 0
    hidden_components: int = 0

    @property
    def empty(self) -> bool:
        return not self.stacks


def heat_map(document: Mapping[str, Any], *, max_stacks: int = 60, max_components: int = 40) -> HeatMap:
    """The stack x component matrix of drift counts (errors marked), the most drifted rows and columns first."""
    drift: Counter[tuple[str, str]] = Counter()
    errors: Counter[tuple[str, str]] = Counter()
    checked: set[tuple[str, str]] = set()
    for instance in document["run"].get("instances") or ():
        component, _, stack = instance.rpartition("@")
        checked.add((stack, component))
    for f in document.get("findings", ()):
        key = (f.get("stack") or NO_STACK, f.get("component") or UNMANAGED_COLUMN)
        checked.add(key)
        if not f.get("suppressed"):
            drift[key] += 1
    for e in document.get("errors", ()):
        if e.get("instance"):
            component, _, stack = e["instance"].rpartition("@")
            errors[(stack, component)] += 1
            checked.add((stack, component))
    if not checked:
        return HeatMap((), (), ())
    weight_s: Counter[str] = Counter()
    weight_c: Counter[str] = Counter()
    for (stack, component), n in (drift + errors).items():
        weight_s[stack] += n
        weight_c[component] += n
    stacks = sorted({s for s, _ in checked}, key=lambda s: (-weight_s[s], s))
    components = sorted({c for _, c in checked}, key=lambda c: (-weight_c[c], c))
    shown_s, shown_c = stacks[:max_stacks], components[:max_components]
    peak = max(drift.values(), default=0)
    rows = []
    for stack in shown_s:
        row = []
        for component in shown_c:
            key = (stack, component)
            if key not in checked:
                row.append(None)
                continue
            count = drift[key]
            row.append({"count": count, "errors": errors[key], "level": _level(count, peak)})
        rows.append(tuple(row))
    return HeatMap(tuple(shown_s), tuple(shown_c), tuple(rows), len(stacks) - len(shown_s),
                   len(components) - len(shown_c))


def _level(count: int, peak: int) -> int:
    """0 (clean) to 5 (the most drifted cell), on a log scale so one finding is already visible."""
    if count <= 0 or peak <= 0:
        return 0
    return 1 + min(4, int(4 * math.log1p(count) / math.log1p(peak)))


# -- findings blob -------------------------------------------------------------------------------
def show_value(value: Any) -> str:
    """A finding's value as text: strings as they are, everything else as JSON (indented when nested)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str,
                      indent=1 if isinstance(value, dict | list) and value else None)


@dataclass
class _Strings:
    """Interns strings: each distinct string is stored once, rows refer to it by index."""

    table: list[str] = field(default_factory=lambda: [""])
    index: dict[str, int] = field(default_factory=lambda: {"": 0})

    def __call__(self, text: Any) -> int:
        text = "" if text is None else str(text)
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.table)
            self.table.append(text)
        return found


# What the two sides say for whole-resource findings that carry no values.
_SIDES = {"missing": ("present in state", "not found live"), "unmanaged": ("in no state", "exists live")}


def _sides(finding: Mapping[str, Any]) -> tuple[str, str]:
    expected, actual = finding.get("expected"), finding.get("actual")
    default = _SIDES.get(str(finding.get("kind")))
    if default and expected is None and actual is None:
        return default
    return labelled_sides(bool(finding.get("set_diff")), show_value(expected), show_value(actual))


def findings_blob(findings: Iterable[Mapping[str, Any]], *, as_of: date | None) -> dict[str, Any]:
    """`{"fields", "strings", "rows", "sensitive"}`: the findings as the page's script reads them."""
    strings = _Strings()
    rows = []
    for f in findings:
        history = f.get("history") or {}
        expected, actual = _sides(f)
        rows.append([
            strings(f.get("kind")), strings(f.get("stack") or NO_STACK),
            strings(f.get("component") or UNMANAGED_COLUMN), strings(f.get("instance")), strings(f.get("address")),
            strings(f.get("type")), strings(f.get("resource_id")), strings(f.get("path")),
            strings(expected), strings(actual),
            strings(f.get("environment_type")), strings(f.get("severity")), 1 if f.get("suppressed") else 0,
            strings(history.get("status")), strings(history.get("first_seen")), int(history.get("runs_seen") or 0),
            strings(_suppression_note(f.get("suppression"), as_of) if f.get("suppressed") else ""),
            [strings(u) for u in f.get("upstream_drift") or ()],
        ])
    return {"fields": list(ROW_FIELDS), "strings": strings.table, "rows": rows, "sensitive": SENSITIVE_CHANGED}


def filter_options(findings: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """The values each filter offers: kinds, environment types and severities present in the findings."""
    def present(key: str) -> list[str]:
        return sorted({str(f.get(key)) for f in findings if f.get(key)})
    return {"kind": present("kind"), "environment_type": present("environment_type"),
            "severity": present("severity")}


# -- suppressions --------------------------------------------------------------------------------
def days_left(expires: Any, as_of: date | None) -> int | None:
    """Whole days from `as_of` to the expiry date (negative once expired); None when unknown."""
    if expires in (None, "") or as_of is None:
        return None
    try:
        return (date.fromisoformat(str(expires)[:10]) - as_of).days
    except ValueError:
        return None


def run_date(document: Mapping[str, Any]) -> date | None:
    """The day the run finished: days left are counted from it, so a report reads the same tomorrow."""
    run = document.get("run", {})
    try:
        return _parse_time(run.get("finished") or run.get("started") or "").date()
    except ValueError:
        return None


def _suppression_note(entry: Mapping[str, Any] | None, as_of: date | None) -> str:
    if not entry:
        return "suppressed"
    left = days_left(entry.get("expires"), as_of)
    parts = [str(entry.get("reason") or "no reason given")]
    if entry.get("owner"):
        parts.append(f"owner {entry['owner']}")
    if entry.get("expires"):
        parts.append(f"until {str(entry['expires'])[:10]}" + (f" ({left} days left)" if left is not None else ""))
    return " · ".join(parts)


def match_text(entry: Mapping[str, Any]) -> str:
    """What a suppression entry matches, as `instance=… address=… path=…`."""
    match = entry.get("match")
    if isinstance(match, Mapping):
        return " ".join(f"{k}={v}" for k, v in match.items() if v not in (None, ""))
    keys = ("instance", "address", "type", "path", "kind")
    return " ".join(f"{k}={entry[k]}" for k in keys if entry.get(k) not in (None, ""))


def suppression_row(entry: Mapping[str, Any], as_of: date | None) -> dict[str, Any]:
    """A suppression entry as a table row: match, reason, owner, expires, days left, ticket, source."""
    source = entry.get("source") or entry.get("file") or ""
    if source and entry.get("line"):
        source = f"{source}:{entry['line']}"
    return {"match": match_text(entry), "reason": entry.get("reason") or "", "owner": entry.get("owner") or "",
            "expires": str(entry.get("expires") or "")[:10], "days_left": days_left(entry.get("expires"), as_of),
            "ticket": entry.get("ticket") or "", "source": source}


def suppressed_findings(findings: Iterable[Mapping[str, Any]], as_of: date | None,
                        limit: int = 500) -> tuple[list[dict[str, Any]], int]:
    """Suppressed findings with their entry (soonest expiry first), at most `limit`; and how many in all."""
    rows = []
    for f in findings:
        if not f.get("suppressed"):
            continue
        entry = f.get("suppression") or {}
        rows.append({"instance": f.get("instance") or f.get("stack") or "", "address": f.get("address", ""),
                     "kind": f.get("kind", ""), "path": f.get("path") or "", **suppression_row(entry, as_of)})
    rows.sort(key=lambda r: (r["days_left"] if r["days_left"] is not None else math.inf, r["instance"],
                             r["address"], r["path"]))
    return rows[:limit], len(rows)
