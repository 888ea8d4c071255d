"""Compare one resource's state attributes with its live attributes and emit findings.

Both sides go through the type's normalisers first, so that a resource nobody touched compares
equal. Modes: `value` (deep equality; one finding per differing leaf path, found with deepdiff),
`set` (order-free; one finding at the attribute listing removed and added elements, marked
`set_diff` so reports label the sides), `json`
(parsed documents, order-free), `tags` (one finding per key: `tags.<key>` when Terraform's `tags`
sets the key, else `tags_all.<key>`, since it then comes from provider default tags).

Sensitive values are compared but never shown: a finding under a sensitive attribute, or whose
either side contains a sensitive value (a secret tag mirrored into `tags_all`), shows
`(sensitive value changed)` on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.drift.findings import SENSITIVE_CHANGED, Finding, format_path
from harness.inventory.normalise import canonical
from harness.inventory.spec import Attr, ResourceType
from harness.state.model import ResourceInstance, SensitivePath
from harness.state.reader import value_at

Path = tuple[str | int, ...]


def compare_resource(rtype: ResourceType, resource: ResourceInstance,
                     live: Mapping[str, Any] | None) -> list[Finding]:
    """Findings for one managed resource: `missing` when gone live, else one per changed attribute."""
    base = Finding(kind="missing", address=resource.address, type=resource.type,
                   resource_id=resource.resource_id)
    if live is None:
        return [base]
    masker = Masker.of([resource.attributes], resource.sensitive_paths)
    configured = resource.attributes.get("tags") or {}
    findings: list[Finding] = []
    for attr in rtype.attributes:
        expected = attr.state(_state_value(attr, resource.attributes))
        for path, exp, act in differences(attr, expected, live.get(attr.name), configured):
            findings.append(masker.finding(base, path, exp, act, set_diff=attr.compare == "set"))
    return findings


def _state_value(attr: Attr, attributes: Mapping[str, Any]) -> Any:
    if attr.compare == "tags":
        # tags_all holds what Terraform manages, provider default tags included; older states lack it.
        return dict(attributes.get("tags_all") or attributes.get("tags") or {})
    return attributes.get(attr.name)


def differences(attr: Attr, expected: Any, actual: Any,
                configured_tags: Mapping[str, Any]) -> Iterable[tuple[Path, Any, Any]]:
    """(path, expected, actual) for every difference of one normalised attribute, by its compare mode."""
    if attr.compare == "tags":
        expected, actual = expected or {}, actual or {}
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key) != actual.get(key):
                yield ("tags" if key in configured_tags else "tags_all", key), expected.get(key), actual.get(key)
    elif attr.compare == "set":
        exp_items = {canonical(e): e for e in expected or ()}
        act_items = {canonical(e): e for e in actual or ()}
        removed = [exp_items[k] for k in sorted(exp_items.keys() - act_items.keys())]
        added = [act_items[k] for k in sorted(act_items.keys() - exp_items.keys())]
        if removed or added:
            yield (attr.name,), removed, added
    elif attr.compare == "json":
        from deepdiff import DeepDiff  # a slow import, needed only when documents differ

        if expected != actual and DeepDiff(expected, actual, ignore_order=True):
            yield (attr.name,), expected, actual
    else:
        yield from value_differences(attr.name, expected, actual)


def value_differences(name: str, expected: Any, actual: Any) -> Iterable[tuple[Path, Any, Any]]:
    """Leaf differences of two JSON-like values under attribute `name` (lists by index)."""
    if expected == actual:
        return
    if not isinstance(expected, dict | list) or not isinstance(actual, type(expected)):
        yield (name,), expected, actual
        return
    from deepdiff import DeepDiff  # a slow import, needed only when values differ

    diff = DeepDiff(expected, actual, view="tree")
    for changes in diff.values():
        for change in changes:
            path = tuple(change.path(output_format="list"))
            yield (name, *path), _plain(change.t1), _plain(change.t2)


def _plain(value: Any) -> Any:
    """deepdiff marks absent sides with a NotPresent object; findings use None."""
    return value if isinstance(value, str | int | float | bool | list | dict | type(None)) else None


def _scalars(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
        yield str(value)


@dataclass(frozen=True)
class Masker:
    """Hides sensitive values in findings: by attribute path, and by value wherever a secret is copied."""

    paths: tuple[SensitivePath, ...]
    secrets: frozenset[str]

    @classmethod
    def of(cls, documents: Iterable[Mapping[str, Any]], paths: Iterable[SensitivePath]) -> Masker:
        """The sensitive paths, and every non-empty scalar value found at or under them in `documents`."""
        paths = tuple(paths)
        secrets: set[str] = set()
        for document in documents:
            for path in paths:
                secrets.update(_scalars(value_at(document, path)))
        return cls(paths, frozenset(secrets))

    def hides(self, path: Path, expected: Any, actual: Any) -> bool:
        """True when the path lies under a sensitive attribute or either side carries a secret's value."""
        variants = [path]
        if path and path[0] in ("tags", "tags_all"):  # the same tag lives in both maps
            variants.append(("tags_all" if path[0] == "tags" else "tags", *path[1:]))
        for sensitive in self.paths:
            if any(variant[: len(sensitive)] == sensitive for variant in variants):
                return True
        if not self.secrets:
            return False
        text = canonical(expected) + canonical(actual)
        return any(secret in text for secret in self.secrets)

    def finding(self, base: Finding, path: Path, expected: Any, actual: Any, *, set_diff: bool = False) -> Finding:
        """A `changed` finding at `path`, masked when sensitive (`set_diff`: the sides are removed/added elements)."""
        if self.hides(path, expected, actual):
            expected = actual = SENSITIVE_CHANGED
        return base.with_changes(kind="changed", path=format_path(path), expected=expected, actual=actual,
                                 set_diff=set_diff)
