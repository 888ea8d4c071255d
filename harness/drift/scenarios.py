"""Drift simulation scenarios: a repo to provision, out-of-band mutations, and the exact findings expected."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError

_FINDING_KEYS = ("instance", "address", "kind", "path")


class ScenarioError(HarnessError):
    """A scenario file that cannot be used."""


CREATE_UNMANAGED = "create_unmanaged"


@dataclass(frozen=True)
class Mutation:
    """An out-of-band change: `op` on the resource at `address` of `instance`'s state.

    `create_unmanaged` names no address: it creates a resource of `params["type"]` (with `args`) in
    the instance's account and region, outside every state.
    """

    op: str
    instance: str
    address: str | None
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    repo: Path
    mutations: tuple[Mutation, ...]
    expected: frozenset[tuple[str, str, str, str]]   # (instance, address, kind, path)
    source: Path


def load_scenario(path: Path) -> Scenario:
    """Read a scenario file; the repo path is relative to the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read scenario: {exc}", where=path) from None
    if not isinstance(data, Mapping) or "repo" not in data:
        raise ScenarioError("a scenario is a mapping with at least `repo`", where=path,
                            hint="see fixtures/scenarios/README.md for the format")
    mutations = []
    for index, entry in enumerate(data.get("mutations") or ()):
        try:
            target = entry["target"]
            params = {k: v for k, v in entry.items() if k not in ("op", "target")}
            address = target.get("address") if entry["op"] == CREATE_UNMANAGED else target["address"]
            mutations.append(Mutation(entry["op"], target["instance"], address, params))
        except (KeyError, TypeError, AttributeError):
            raise ScenarioError(f"mutation #{index + 1} needs `op` and `target: {{instance, address}}`",
                                where=path, hint="create_unmanaged needs only `target: {instance}`, "
                                                 "plus `type` and `args`") from None
        if entry["op"] == CREATE_UNMANAGED and not isinstance(params.get("type"), str):
            raise ScenarioError(f"mutation #{index + 1} (create_unmanaged) needs `type` and `args`", where=path)
    expected = set()
    for index, entry in enumerate(data.get("expected") or ()):
        if not isinstance(entry, Mapping) or any(k not in entry for k in ("instance", "address", "kind")):
            raise ScenarioError(f"expected finding #{index + 1} needs instance, address and kind", where=path,
                                hint="an unmanaged finding has `instance: null` and the owning `stack`")
        expected.add(finding_key(entry))
    return Scenario(name=str(data.get("name", path.stem)), description=str(data.get("description", "")),
                    repo=(path.parent / data["repo"]).resolve(), mutations=tuple(mutations),
                    expected=frozenset(expected), source=path)


def finding_key(finding: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """What identifies a finding in a scenario: instance (for unmanaged ones, `stack <name>`), address,
    kind, path."""
    key = [str(finding.get(k) or "") for k in _FINDING_KEYS]
    if not key[0] and finding.get("kind") == "unmanaged":
        key[0] = f"stack {finding.get('stack') or '-'}"
    return tuple(key)  # type: ignore[return-value]


@dataclass(frozen=True)
class ScenarioOutcome:
    missing: tuple[tuple[str, ...], ...]      # expected but not found
    unexpected: tuple[tuple[str, ...], ...]   # found but not expected
    errors: tuple[str, ...]                   # evaluation errors (a scenario with errors never matches)

    @property
    def matched(self) -> bool:
        return not (self.missing or self.unexpected or self.errors)

    def differences(self) -> list[tuple[str, str]]:
        """(label, text) per difference: expected but not found, found but not expected, not evaluated."""
        return ([("expected but not found", " ".join(key)) for key in self.missing]
                + [("found but not expected", " ".join(key)) for key in self.unexpected]
                + [("not evaluated", error) for error in self.errors])


def compare_outcome(scenario: Scenario, findings: Iterable[Mapping[str, Any]],
                    errors: Iterable[Mapping[str, Any]]) -> ScenarioOutcome:
    """Exact comparison of a run's findings with the scenario's expectation."""
    found = {finding_key(f) for f in findings}
    return ScenarioOutcome(missing=tuple(sorted(scenario.expected - found)),
                           unexpected=tuple(sorted(found - scenario.expected)),
                           errors=tuple(f"{e.get('instance')}: {e.get('message')}" for e in errors))
