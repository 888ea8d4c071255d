"""Which files of a manifest's closure reach which component's section (what-if on a changed file).

A file reaches every component of the stacks importing it when it sets a section that applies to all
of them: any top-level key but `import` and `components` (`terraform:`, `helmfile:`, `packer:` only
reach components of that type). It reaches one component when it defines `components.<type>.<name>`
for it or for one of its base components. A file whose content cannot be classified (unrendered
templates, templated component names) counts as reaching everything. `import` lists are not judged:
each imported file is in the closure and judged by its own content.

Example: `catalog/vpc.yaml` defining only `components.terraform.vpc` reaches `vpc` (and components
inheriting from it), not `app` of the same stack; a mixin setting `vars.region` reaches every component.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

EVERY_TYPE = "*"
_NOT_GLOBAL = ("import", "components")
_TYPED = ("terraform", "helmfile", "packer")


@dataclass(frozen=True)
class FileRole:
    """What one file sets: the component types its global sections reach, the components it defines."""

    reaches: frozenset[str]                  # component types, or EVERY_TYPE
    defines: frozenset[tuple[str, str]]      # (type, component name)


OPAQUE = FileRole(frozenset({EVERY_TYPE}), frozenset())


def role_of(data: Mapping[str, Any], *, template_unsupported: bool = False) -> FileRole:
    """The role of a parsed manifest (its own content, imports not followed)."""
    if template_unsupported:
        return OPAQUE
    reaches: set[str] = set()
    defines: set[tuple[str, str]] = set()
    for key in data:
        if key not in _NOT_GLOBAL:
            reaches.add(key if key in _TYPED else EVERY_TYPE)
    components = data.get("components")
    if isinstance(components, dict):
        for kind, typed in components.items():
            if not isinstance(typed, dict):
                continue
            for name in typed:
                if "{{" in str(name):
                    return OPAQUE
                defines.add((str(kind), str(name)))
    return FileRole(frozenset(reaches), frozenset(defines))


class Contributors:
    """The files of one closure that reach a component, as masks over the closure's files (one per root)."""

    def __init__(self, files: tuple[str, ...], roles: Iterable[tuple[str, FileRole]]) -> None:
        self.files = files
        position = {path: i for i, path in enumerate(files)}
        self._reach: dict[str, int] = {}                 # type -> mask of files with global sections
        self._defines: dict[tuple[str, str], int] = {}   # (type, name) -> mask of files defining it
        for path, role in roles:
            bit = 1 << position[path]
            for kind in role.reaches:
                self._reach[kind] = self._reach.get(kind, 0) | bit
            for defined in role.defines:
                self._defines[defined] = self._defines.get(defined, 0) | bit
        self._memo: dict[int, tuple[str, ...]] = {}

    def of(self, kind: str, names: Iterable[str]) -> tuple[str, ...]:
        """The files reaching a component of type `kind` defined as `names` (itself and its bases),
        in merge order."""
        mask = self._reach.get(EVERY_TYPE, 0) | self._reach.get(kind, 0)
        defines = self._defines
        for name in names:
            mask |= defines.get((kind, name), 0)
        hit = self._memo.get(mask)
        if hit is None:
            hit = self._memo[mask] = tuple(f for i, f in enumerate(self.files) if mask >> i & 1)
        return hit
