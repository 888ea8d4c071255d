"""Accepted drift, written down: who accepted it, why, and until when.

`drift-suppressions.yaml` in the stacks repo (config `suppressions_file`) holds entries::

    suppressions:
      - match: {instance: "app-*@*-prod", address: aws_s3_bucket.this, path: "tags.Owner", kind: changed}
        reason: the data team retags buckets while the migration runs
        owner: data-platform@example.com
        expires: 2025-09-30
        ticket: DATA-1234          # optional

Every `match` key is a glob (`fnmatch`, case-sensitive) over the finding's field, except `kind`
(`changed`, `missing` or `unmanaged`); missing keys match anything, but an entry must name at least
one. `reason`, `owner` and `expires` are required. An entry suppresses matching findings up to and
including its `expires` date; after that it stops suppressing and is reported as expired (a failure).
An entry that matched nothing in a full run is stale (a warning). `@pytest.mark.expected_drift(...)`
makes entries in code, for one suite, with the same keys (`path=`, `address=`, ... plus `reason=`,
`owner=`, `expires=`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from harness.drift.findings import KINDS, Finding
from harness.errors import ConfigError, yaml_problem

MATCH_KEYS = ("instance", "address", "type", "path", "kind")
REQUIRED = ("reason", "owner", "expires")
ENTRY_KEYS = ("match", *REQUIRED, "ticket")
ACTIVE, EXPIRED = "active", "expired"


class SuppressionError(ConfigError):
    """A suppression entry that cannot be used (names the entry and its file:line)."""


def today_utc() -> date:
    """Today's date in UTC (expiry dates are compared with it)."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Suppression:
    """One entry: which findings it matches, and who accepted them, why, until when."""

    match: Mapping[str, str]
    reason: str
    owner: str
    expires: date
    source: str                            # where it is written: "drift-suppressions.yaml:12", "suites/x.py:9"
    ticket: str | None = None
    origin: str = "file"                   # file | marker

    @property
    def id(self) -> str:
        """Stable identity of the entry: its source location."""
        return self.source

    def expired(self, today: date) -> bool:
        """True after the expiry date (the entry suppresses up to and including it)."""
        return today > self.expires

    def matches(self, finding: Finding) -> bool:
        """Every given match key globs the finding's field (a null instance is matched as "")."""
        for key, pattern in self.match.items():
            value = getattr(finding, key) or ""
            if key == "kind":
                if value != pattern:
                    return False
            elif not fnmatch.fnmatchcase(str(value), pattern):
                return False
        return True

    def to_json(self, today: date | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "match": dict(self.match), "reason": self.reason, "owner": self.owner,
                                "expires": self.expires.isoformat(), "ticket": self.ticket, "origin": self.origin}
        if today is not None:
            data["status"] = EXPIRED if self.expired(today) else ACTIVE
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suppression:
        """The inverse of `to_json` (entries travel from workers to the controller as JSON)."""
        return cls(match=dict(data["match"]), reason=data["reason"], owner=data["owner"],
                   expires=date.fromisoformat(data["expires"]), source=data["id"], ticket=data.get("ticket"),
                   origin=data.get("origin", "file"))


# -- reading -------------------------------------------------------------------------------------------

def load_suppressions(path: Path, *, display: str | None = None) -> tuple[Suppression, ...]:
    """Every entry of a suppressions file; no file means no entries. Raises `SuppressionError`.

    `display` is how the file is named in entry ids and messages (e.g. relative to the repo).
    """
    if not path.is_file():
        return ()
    name = display or str(path)
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        what, line = yaml_problem(exc)
        raise SuppressionError(what, where=name, line=line, hint="fix the YAML syntax") from None
    if data is None:
        return ()
    entries, nodes = data, root
    if isinstance(data, Mapping):
        if set(data) != {"suppressions"}:
            raise SuppressionError("the file holds a list of entries, or `suppressions:` with that list",
                                   where=name, line=1, hint="see docs/drift.md for the format")
        entries = data["suppressions"] or []
        nodes = next(v for k, v in root.value if k.value == "suppressions")
    if not isinstance(entries, list):
        raise SuppressionError("`suppressions` must be a list of entries", where=name, line=1)
    lines = [item.start_mark.line + 1 for item in getattr(nodes, "value", [])]
    return tuple(parse_entry(entry, where=name, line=lines[index] if index < len(lines) else None,
                             label=f"suppression #{index + 1}")
                 for index, entry in enumerate(entries))


def parse_entry(entry: Any, *, where: str, line: int | None, label: str, origin: str = "file") -> Suppression:
    """One entry from YAML (or marker keyword arguments) -> a `Suppression`; errors name `label` at where:line."""
    def fail(what: str, hint: str) -> SuppressionError:
        return SuppressionError(f"{label}: {what}", where=where, line=line, hint=hint)

    if not isinstance(entry, Mapping):
        raise fail("is not a mapping", "write `match:`, `reason:`, `owner:`, `expires:` (and optionally `ticket:`)")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise fail(f"has unknown key(s) {', '.join(unknown)}", f"allowed: {', '.join(ENTRY_KEYS)}")
    missing = [key for key in REQUIRED if entry.get(key) in (None, "")]
    if missing:
        raise fail(f"has no {', '.join(missing)}", "every suppression needs a reason, an owner and an expires date "
                                                    "(YYYY-MM-DD)")
    match = entry.get("match")
    if not isinstance(match, Mapping) or not match:
        raise fail("has no `match`", f"match on at least one of {', '.join(MATCH_KEYS)}")
    bad = sorted(set(match) - set(MATCH_KEYS))
    if bad:
        raise fail(f"matches on unknown key(s) {', '.join(map(str, bad))}", f"match keys: {', '.join(MATCH_KEYS)}")
    if "kind" in match and match["kind"] not in KINDS:
        raise fail(f"kind {match['kind']!r} is not a finding kind", f"use one of {', '.join(KINDS)}")
    return Suppression(match={str(k): str(v) for k, v in match.items()}, reason=str(entry["reason"]).strip(),
                       owner=str(entry["owner"]).strip(), expires=_date(entry["expires"], fail),
                       source=f"{where}:{line}" if line else where,
                       ticket=str(entry["ticket"]) if entry.get("ticket") else None, origin=origin)


def _date(value: Any, fail: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise fail(f"expires {value!r} is not a date", "write the date as YYYY-MM-DD") from None


def from_marker(kwargs: Mapping[str, Any], *, where: str, line: int | None) -> Suppression:
    """`@pytest.mark.expected_drift(path=..., reason=..., owner=..., expires=...)` -> a `Suppression`."""
    entry = {key: kwargs[key] for key in kwargs if key not in MATCH_KEYS}
    entry["match"] = {key: kwargs[key] for key in MATCH_KEYS if key in kwargs}
    return parse_entry(entry, where=where, line=line, label="expected_drift marker", origin="marker")


# -- applying ------------------------------------------------------------------------------------------

def apply_suppressions(findings: Iterable[Finding], entries: Iterable[Suppression], *,
                       today: date) -> tuple[Finding, ...]:
    """Mark findings matched by an active entry as suppressed (with the entry).

    A finding matched only by expired entries stays unsuppressed and carries the expired entry
    (`suppression.status == "expired"`), so the report can say which acceptance ran out.
    """
    entries = list(entries)
    result = []
    for finding in findings:
        matching = [e for e in entries if e.matches(finding)]
        active = next((e for e in matching if not e.expired(today)), None)
        if active is not None:
            finding = finding.with_changes(suppressed=True, suppression=active.to_json(today))
        elif matching:
            finding = finding.with_changes(suppressed=False, suppression=matching[0].to_json(today))
        result.append(finding)
    return tuple(result)


def expired_suppression(finding: Finding) -> Mapping[str, Any] | None:
    """The expired entry a finding carries, if any."""
    entry = finding.suppression
    return entry if entry and entry.get("status") == EXPIRED and not finding.suppressed else None


@dataclass(frozen=True)
class SuppressionReport:
    """drift.json's top-level `suppressions`: expired entries (failures) and stale ones (warnings).

    `tally` is every entry with the findings it matched: what `report merge` needs to judge stale
    entries over the shards of one run.
    """

    expired: tuple[Mapping[str, Any], ...] = ()
    stale: tuple[Mapping[str, Any], ...] = ()
    judged_stale: bool = field(default=True)   # False when the run was not full (stale cannot be told)
    tally: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"expired": [dict(e) for e in self.expired], "stale": [dict(e) for e in self.stale]}


def suppression_report(entries: Iterable[Suppression], findings: Iterable[Finding], *, today: date,
                       full_run: bool, unmanaged_checked: bool = True,
                       scope: Mapping[str, Iterable[str]] | None = None) -> SuppressionReport:
    """Expired entries (with how many findings each matched) and, in a full run, stale entries.

    `scope` limits an entry (by id) to the findings of some instances: a marker applies only to the
    items of its suite. Stale: see `stale_entries`.
    """
    entries = list({e.id: e for e in entries}.values())
    matched = match_counts(entries, findings, scope)
    tally = tuple({**e.to_json(today), "matched": matched.get(e.id, 0)} for e in entries)
    expired = tuple(e for e in tally if e["status"] == EXPIRED)
    stale = stale_entries(tally, unmanaged_checked=unmanaged_checked) if full_run else []
    return SuppressionReport(expired=expired, stale=tuple(stale), judged_stale=full_run, tally=tally)


def stale_entries(tally: Iterable[Mapping[str, Any]], *, unmanaged_checked: bool) -> list[dict[str, Any]]:
    """The active entries of a full run's tally that matched no finding (without their `matched`).

    Entries that only match unmanaged findings are not judged when the unmanaged check did not run.
    """
    return [{k: v for k, v in e.items() if k != "matched"} for e in tally
            if e.get("status") != EXPIRED and not e.get("matched")
            and (unmanaged_checked or (e.get("match") or {}).get("kind") != "unmanaged")]


def match_counts(entries: Iterable[Suppression], findings: Iterable[Finding],
                 scope: Mapping[str, Iterable[str]] | None = None) -> dict[str, int]:
    """How many findings each entry (by id) matched, within its `scope` (see `suppression_report`)."""
    entries = list(entries)
    limits = {key: set(value) for key, value in (scope or {}).items()}
    matched: dict[str, int] = {}
    for finding in findings:
        for entry in entries:
            if entry.id in limits and finding.instance not in limits[entry.id]:
                continue
            if entry.matches(finding):
                matched[entry.id] = matched.get(entry.id, 0) + 1
    return matched
