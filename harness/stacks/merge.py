"""Atmos deep merge, with structural sharing instead of copies.

Rules (Atmos `pkg/merge`): maps merge key by key, recursively; any other value of a later layer
replaces the earlier one (`null` too); lists follow the list merge strategy:

- `replace` (default): the later list wins.
- `append`: earlier items, then later items.
- `merge`: item by item up to the earlier list's length; two maps at the same index are deep-merged,
  anything else keeps the earlier item (Atmos/mergo behaviour); extra later items are dropped.

A list tagged `!append` is appended whatever the strategy; `!unset` removes the key. A scalar or map
replacing a list is an error in Atmos (`cannot override two slices with different type`).

Performance: layers are never copied up front. The result shares every subtree that only one layer
contributes; a dict is copied (shallowly) only when a later layer changes something inside it, and
within one merge each copy is made once and then updated in place. So merging a 3-key override into a
large catalog costs a handful of dict copies along the override's paths, not a deep copy. The price is
a rule everyone follows: merged data is read-only.

Example::

    base = {"vars": {"a": 1, "tags": {"x": "1"}}, "settings": {...}}
    top = {"vars": {"tags": {"y": "2"}}}
    out = merge_layers([base, top])
    # out["vars"]["tags"] == {"x": "1", "y": "2"}; out["settings"] is base["settings"] (shared)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.stacks.yaml_loader import UNSET, AppendList

REPLACE, APPEND, MERGE = "replace", "append", "merge"
LIST_STRATEGIES = (REPLACE, APPEND, MERGE)


class MergeTypeError(ValueError):
    """A later layer replaces a list with a map or a scalar (Atmos refuses this)."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        super().__init__(f"cannot replace the list at {'.'.join(path) or '(root)'} with a non-list value")


def merge_layers(layers: Iterable[Mapping[str, Any] | None], strategy: str = REPLACE) -> Any:
    """Deep-merge mappings, later layers winning; empty layers are skipped.

    Returns one of the layers itself when only one is non-empty (read-only result).
    """
    acc: Any = None
    owned: set[int] | None = None
    for layer in layers:
        if not layer:
            continue
        if acc is None:
            acc = layer
            continue
        if owned is None:
            owned = set()
        acc = _merge_into(acc, layer, strategy, owned, ())
    return {} if acc is None else acc


def _merge_into(dst: Any, src: Mapping[str, Any], strategy: str, owned: set[int],
                path: tuple[str, ...]) -> dict[str, Any]:
    if id(dst) not in owned:
        dst = dict(dst)
        owned.add(id(dst))
    for key, value in src.items():
        if key not in dst:
            if value is not UNSET:
                dst[key] = value
            continue
        current = dst[key]
        if isinstance(value, dict):
            if isinstance(current, dict):
                if value:
                    dst[key] = _merge_into(current, value, strategy, owned, (*path, key))
                continue
            if isinstance(current, list):
                raise MergeTypeError((*path, str(key)))
            dst[key] = value
        elif isinstance(value, list):
            dst[key] = _merge_lists(current, value, strategy) if isinstance(current, list) else value
        elif value is UNSET:
            del dst[key]
        else:
            if isinstance(current, list) and value is not None:
                raise MergeTypeError((*path, str(key)))
            dst[key] = value
    return dst


def _merge_lists(current: list[Any], value: list[Any], strategy: str) -> list[Any]:
    if type(value) is AppendList:
        return [*current, *value]
    if strategy == REPLACE:
        return value
    if strategy == APPEND:
        return [*current, *value]
    result = list(current)
    for index in range(min(len(current), len(value))):
        if isinstance(current[index], dict) and isinstance(value[index], dict):
            result[index] = merge_layers([current[index], value[index]])
    return result


def has_markers(value: Any) -> bool:
    """True when `!unset` or `!append` markers are still inside a merged value."""
    if value is UNSET or type(value) is AppendList:
        return True
    if isinstance(value, dict):
        return any(has_markers(v) for v in value.values())
    if isinstance(value, list):
        return any(has_markers(v) for v in value)
    return False


def strip_markers(value: Any) -> Any:
    """A copy without `!unset` keys and with `!append` lists as plain lists (input unchanged)."""
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if v is not UNSET}
    if isinstance(value, list):
        return [strip_markers(v) for v in value if v is not UNSET]
    return value
