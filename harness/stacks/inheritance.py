"""Component inheritance: the legacy `component:` attribute and `metadata.inherits`.

Atmos processes a component's bases depth first: for each base, first the base's own bases (its
`component:` attribute, then its `metadata.inherits` left to right), then the base itself; each base
merges over what came before, so a later base wins. The `inheritance` list puts the base merged last
first: `override-2 -> override -> test-component` gives `[test/test-component-override,
test/test-component]`. Only the raw component maps of the stack take part (no globals), so the merged
result depends only on those maps: it is memoised by their identity and shared between stacks that
import the same catalog (a base defined once is merged once for all stacks).

`metadata` is inherited without `type` and `inherits` (a component inheriting from an abstract one is
concrete). `command`, `backend_type` and `remote_state_backend_type` come from the base merged last
(Atmos overwrites them per base, even with nothing).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.stacks.merge import merge_layers

SECTIONS = ("vars", "settings", "env", "providers", "hooks", "backend", "remote_state_backend",
            "dependencies")
_SCALARS = ("command", "backend_type", "remote_state_backend_type")


class InheritanceError(Exception):
    """A base that does not exist, a cycle, or a malformed inheritance attribute."""

    def __init__(self, message: str, key_path: tuple[str, ...] = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key_path = key_path
        self.hint = hint


@dataclass(frozen=True)
class BaseConfig:
    """What a component inherits: merged sections, scalars from the last base, and the chain."""

    sections: Mapping[str, Mapping[str, Any]]
    metadata: Mapping[str, Any]
    scalars: Mapping[str, str]
    inheritance: tuple[str, ...]
    first_base: str | None
    inheritance_list: list[str] = field(default_factory=list)   # the same, shared by the output (read-only)


EMPTY_BASE = BaseConfig({}, {}, {}, (), None)


def _as_mapping(value: Any, what: str, key_path: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InheritanceError(f"{what} must be a mapping", key_path)
    return value


def _inherits(section: Mapping[str, Any], name: str, kind: str) -> list[str]:
    metadata = _as_mapping(section.get("metadata"), f"components.{kind}.{name}.metadata",
                           ("components", kind, name, "metadata"))
    inherits = metadata.get("inherits")
    if inherits is None:
        return []
    if not isinstance(inherits, list) or not all(isinstance(x, str) for x in inherits):
        raise InheritanceError(
            f"components.{kind}.{name}.metadata.inherits must be a list of component names",
            ("components", kind, name, "metadata", "inherits"))
    return inherits


def legacy_base(section: Mapping[str, Any], name: str, kind: str) -> str | None:
    """The value of the legacy top-level `component:` attribute, if any."""
    value = section.get("component")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InheritanceError(f"components.{kind}.{name}.component must be a string",
                               ("components", kind, name, "component"))
    return value


class InheritanceResolver:
    """Computes `BaseConfig`s; the memo lives as long as the resolver (one `load`)."""

    def __init__(self, strategy: str, inherit_metadata: bool = True) -> None:
        self.strategy = strategy
        self.inherit_metadata = inherit_metadata
        self._memo: dict[tuple[int, ...], tuple[BaseConfig, tuple[Any, ...]]] = {}
        self._folders: dict[tuple[Path, str], bool] = {}

    def _is_folder(self, root: Path, name: str) -> bool:
        key = (root, name)
        found = self._folders.get(key)
        if found is None:
            found = self._folders[key] = (root / name).is_dir()
        return found

    def plan(self, kind: str, name: str, section: Mapping[str, Any], components: Mapping[str, Any],
             folder_root: Path | None) -> list[tuple[str, Mapping[str, Any]]]:
        """The bases of a component in merge order (each base after its own bases)."""
        steps: list[tuple[str, Mapping[str, Any]]] = []
        visiting = [name]

        def visit(component: str, base: str, via: str) -> None:
            if component == base and via == "component":
                return
            if base in visiting:
                cycle = " -> ".join([*visiting[visiting.index(base):], base])
                raise InheritanceError(f"inheritance cycle: {cycle}", ("components", kind, name),
                                       hint="remove one of the links in the cycle")
            raw = components.get(base)
            if raw is None:
                if via == "component":
                    if folder_root is not None and not self._is_folder(folder_root, base):
                        raise InheritanceError(
                            f"component {component!r} names {base!r} with `component:`, but {base!r} is "
                            f"neither a component of this stack nor a folder under {folder_root}",
                            ("components", kind, component, "component"),
                            hint="define the base component or fix the name")
                    return
                raise InheritanceError(
                    f"component {component!r} inherits from {base!r} (metadata.inherits), but {base!r} is "
                    "not defined in this stack", ("components", kind, component, "metadata", "inherits"),
                    hint=f"define {base!r} in the stack or one of its imports, or remove it from inherits")
            if not isinstance(raw, dict):
                raise InheritanceError(f"components.{kind}.{base} must be a mapping",
                                       ("components", kind, base))
            visiting.append(base)
            parent = legacy_base(raw, base, kind)
            if parent is not None:
                visit(base, parent, "component")
            for inherited in _inherits(raw, base, kind):
                visit(component, inherited, "inherits")
            visiting.pop()
            steps.append((base, raw))

        parent = legacy_base(section, name, kind)
        if parent is not None:
            visit(name, parent, "component")
        for inherited in _inherits(section, name, kind):
            visit(name, inherited, "inherits")
        return steps

    def resolve(self, steps: list[tuple[str, Mapping[str, Any]]]) -> BaseConfig:
        """Merge the planned bases; memoised by the identity of the raw base maps."""
        if not steps:
            return EMPTY_BASE
        key = tuple(id(raw) for _, raw in steps) + tuple(hash(n) for n, _ in steps)
        hit = self._memo.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[1], (raw for _, raw in steps), strict=True)):
            return hit[0]
        result = self._merge(steps)
        self._memo[key] = (result, tuple(raw for _, raw in steps))
        return result

    def _merge(self, steps: list[tuple[str, Mapping[str, Any]]]) -> BaseConfig:
        sections: dict[str, Any] = {}
        for section in SECTIONS:
            layers = []
            for base, raw in steps:
                value = raw.get(section)
                if value is not None and not isinstance(value, dict):
                    raise InheritanceError(f"components.*.{base}.{section} must be a mapping",
                                           ("components", "*", base, section))
                layers.append(value)
            merged = merge_layers(layers, self.strategy)
            if merged:
                sections[section] = merged
        metadata: Any = {}
        if self.inherit_metadata:
            layers = []
            for _, raw in steps:
                meta = raw.get("metadata")
                if isinstance(meta, dict) and meta:
                    layers.append({k: v for k, v in meta.items() if k not in ("inherits", "type")})
            metadata = merge_layers(layers, self.strategy)
        scalars: dict[str, str] = {}
        last = steps[-1][1]
        for name in _SCALARS:
            value = last.get(name)
            scalars[name] = value if isinstance(value, str) else ""
        chain: list[str] = []
        for base, _ in steps:
            chain = [base, *(c for c in chain if c != base)]
        return BaseConfig(sections, metadata, scalars, tuple(chain), steps[0][0], chain)


def terraform_folder(name: str, section: Mapping[str, Any], components: Mapping[str, Any], kind: str) -> str:
    """The component's folder: its own `metadata.component`, else where the legacy `component:` chain
    ends (through components defined in the stack), else its own name."""
    seen = {name}
    current_name, current = name, section
    while True:
        metadata = current.get("metadata")
        folder = metadata.get("component") if isinstance(metadata, dict) else None
        if isinstance(folder, str) and folder:
            return folder
        base = legacy_base(current, current_name, kind)
        if base is None or base == current_name:
            return current_name
        target = components.get(base)
        if not isinstance(target, dict) or base in seen:
            return base
        seen.add(base)
        current_name, current = base, target


def component_path(base: Path, folder: str) -> str:
    return os.path.normpath(os.path.join(str(base), folder))
