"""Compare one resource's state attributes with its live attributes and emit findings.

Both sides go through the type's normalisers first, so that a resource nobody touched compares
equal. Modes: `value` (deep equality; one finding per differing leaf path, found with deepdiff),
`set` (order-free; one finding at the attribute listing removed and added elements), `json`
(parsed documents, order-free), `tags` (one finding per key: `tags.<key>` when Terraform's `tags`
sets the key, else `tags_all.<key>`, since it then comes from provider default tags).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from deepdiff import DeepDiff

from harness.drift.findings import SENSITIVE_CHANGED, Finding, format_path
from harness.inventory.normalise import canonical
from harness.inventory.spec import Attr, ResourceType
from harness.state.model import ResourceInstance
from harness.state.reader import value_at


def compare_resource(rtype: ResourceType, resource: ResourceInstance,
                     live: Mapping[str, Any] | None) -> list[Finding]:
    """Findings for one managed resource: `missing` when gone live, else one per changed attribute."""
    base = Finding(kind="missing", address=resource.address, type=resource.type,
                   resource_id=resource.resource_id)
    if live is None:
        return [base]
    secrets = _sensitive_values(resource)
    findings: list[Finding] = []
    for attr in rtype.attributes:
        expected = attr.state(_state_value(attr, resource.attributes))
        actual = live.get(attr.name)
        for path, exp, act in _differences(attr, expected, actual, resource.attributes):
            if _is_sensitive(path, resource, secrets, exp, act):
                exp = act = SENSITIVE_CHANGED
            findings.append(base.with_changes(kind="changed", path=format_path(path), expected=exp,
                                              actual=act))
    return findings


def _state_value(attr: Attr, attributes: Mapping[str, Any]) -> Any:
    if attr.compare == "tags":
        # tags_all holds what Terraform manages, provider default tags included; older states lack it.
        return dict(attributes.get("tags_all") or attributes.get("tags") or {})
    return attributes.get(attr.name)


def _differences(attr: Attr, expected: Any, actual: Any,
                 attributes: Mapping[str, Any]) -> Iterable[tuple[tuple[str | int, ...], Any, Any]]:
    if attr.compare == "tags":
        configured = attributes.get("tags") or {}
        expected, actual = expected or {}, actual or {}
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key) != actual.get(key):
                yield ("tags" if key in configured else "tags_all", key), expected.get(key), actual.get(key)
    elif attr.compare == "set":
        exp_items = {canonical(e): e for e in expected or ()}
        act_items = {canonical(e): e for e in actual or ()}
        removed = [exp_items[k] for k in sorted(exp_items.keys() - act_items.keys())]
        added = [act_items[k] for k in sorted(act_items.keys() - exp_items.keys())]
        if removed or added:
            yield (attr.name,), removed, added
    elif attr.compare == "json":
        if DeepDiff(expected, actual, ignore_order=True):
            yield (attr.name,), expected, actual
    else:
        yield from _value_differences(attr.name, expected, actual)


def _value_differences(name: str, expected: Any, actual: Any) -> Iterable[tuple[tuple[str | int, ...], Any, Any]]:
    if expected == actual:
        return
    if not isinstance(expected, dict | list) or not isinstance(actual, type(expected)):
        yield (name,), expected, actual
        return
    diff = DeepDiff(expected, actual, view="tree")
    for changes in diff.values():
        for change in changes:
            path = tuple(change.path(output_format="list"))
            yield (name, *path), _plain(change.t1), _plain(change.t2)


def _plain(value: Any) -> Any:
    """deepdiff marks absent sides with a NotPresent object; findings use None."""
    return value if isinstance(value, str | int | float | bool | list | dict | type(None)) else None


def _sensitive_values(resource: ResourceInstance) -> set[str]:
    values = set()
    for path in resource.sensitive_paths:
        value = value_at(resource.attributes, path)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
            values.add(str(value))
    return values


def _is_sensitive(path: tuple[str | int, ...], resource: ResourceInstance, secrets: set[str],
                  expected: Any, actual: Any) -> bool:
    """Sensitive when the path lies under a sensitive attribute or either side carries a secret's value
    (a sensitive value mirrored elsewhere, e.g. a tag copied into tags_all)."""
    variants = [path]
    if path and path[0] in ("tags", "tags_all"):  # the same tag lives in both maps
        variants.append(("tags_all" if path[0] == "tags" else "tags", *path[1:]))
    for sensitive in resource.sensitive_paths:
        if any(variant[: len(sensitive)] == sensitive for variant in variants):
            return True
    if not secrets:
        return False
    text = canonical(expected) + canonical(actual)
    return any(secret in text for secret in secrets)
