"""Dependencies between instances: legacy `settings.depends_on` and `dependencies.components`.

- `settings.depends_on` is a map (keys usually 1, 2, ...) of `{component, stack?, namespace?, tenant?,
  environment?, stage?}`. With `stack`, the target is `component@stack`. Otherwise the target is the
  instance of `component` whose context vars equal the given fields, and, for fields not given, the
  dependent's own vars (Atmos `describe dependents`).
- `dependencies.components` is a list of `{component | name, stack?, kind?}`; without `stack` the
  target is in the dependent's own stack.

A target that does not exist is an error for the dependent only. A dependency on the dependent
itself is kept (the graph reports it as a cycle of one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.stacks.model import instance_id
from harness.stacks.naming import CONTEXT_FIELDS


@dataclass(frozen=True)
class Candidate:
    """What the resolver needs to know about a possible target."""

    component: str
    stack: str
    vars: Mapping[str, Any]


@dataclass(frozen=True)
class Resolved:
    ids: tuple[str, ...]
    errors: tuple[str, ...]


NO_DEPENDENCIES = Resolved((), ())


def _context(vars_: Mapping[str, Any]) -> tuple[Any, ...]:
    get = vars_.get
    return get("namespace"), get("tenant"), get("environment"), get("stage")


class DependencyIndex:
    """Lookups by id and by (component, namespace, tenant, environment, stage)."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self._candidates = list(candidates)
        self.ids: set[str] = {instance_id(c.component, c.stack) for c in self._candidates}
        self._by_context: dict[tuple[Any, ...], list[str]] | None = None

    @property
    def by_context(self) -> dict[tuple[Any, ...], list[str]]:
        """Built on first use: only `settings.depends_on` without a stack needs it."""
        if self._by_context is None:
            self._by_context = {}
            for c in self._candidates:
                key = (c.component, *_context(c.vars))
                self._by_context.setdefault(key, []).append(instance_id(c.component, c.stack))
        return self._by_context

    def resolve(self, dependent: Candidate, section: Mapping[str, Any]) -> Resolved:
        settings = section.get("settings") or {}
        if "depends_on" not in settings and "dependencies" not in section:
            return NO_DEPENDENCIES
        ids: list[str] = []
        errors: list[str] = []
        depends_on = settings.get("depends_on") if isinstance(settings, dict) else None
        if depends_on is not None:
            if isinstance(depends_on, dict):
                entries: Sequence[tuple[Any, Any]] = list(depends_on.items())
            elif isinstance(depends_on, list):
                entries = list(enumerate(depends_on, start=1))
            else:
                entries = []
                errors.append("settings.depends_on must be a map of {component, ...} entries")
            for key, entry in entries:
                self._depends_on(dependent, key, entry, ids, errors)
        deps = section.get("dependencies") or {}
        components = deps.get("components") if isinstance(deps, dict) else None
        if components is not None:
            if not isinstance(components, list):
                errors.append("dependencies.components must be a list of {component, stack?} entries")
            else:
                for index, entry in enumerate(components, start=1):
                    self._dependency(dependent, index, entry, ids, errors)
        # A dependency on itself is kept: the graph reports it as a cycle `a@s -> a@s`.
        return Resolved(tuple(dict.fromkeys(ids)), tuple(errors))

    def _depends_on(self, dependent: Candidate, key: Any, entry: Any, ids: list[str],
                    errors: list[str]) -> None:
        where = f"settings.depends_on.{key}"
        if isinstance(entry, dict) and "component" not in entry and ("file" in entry or "folder" in entry):
            return  # a dependency on a file or folder (used by `describe affected`), not on an instance
        if not isinstance(entry, dict) or not isinstance(entry.get("component"), str):
            errors.append(f"{where} must be a mapping with a component name")
            return
        component = entry["component"]
        stack = entry.get("stack")
        if isinstance(stack, str) and stack:
            target = instance_id(component, stack)
            if target in self.ids:
                ids.append(target)
            else:
                errors.append(f"{where}: {target} does not exist")
            return
        wanted = tuple(entry.get(f, dependent.vars.get(f)) for f in CONTEXT_FIELDS)
        found = self.by_context.get((component, *wanted))
        if found:
            ids.extend(found)
            return
        given = ", ".join(f"{f}={v}" for f, v in zip(CONTEXT_FIELDS, wanted, strict=True) if v is not None)
        errors.append(f"{where}: no instance of {component!r} with {given or 'an empty context'}")

    def _dependency(self, dependent: Candidate, index: int, entry: Any, ids: list[str],
                    errors: list[str]) -> None:
        where = f"dependencies.components[{index}]"
        if not isinstance(entry, dict):
            errors.append(f"{where} must be a mapping with a component name")
            return
        component = entry.get("component") or entry.get("name")
        if not isinstance(component, str) or not component:
            errors.append(f"{where} must name a component (component: or name:)")
            return
        stack = entry.get("stack")
        stack = stack if isinstance(stack, str) and stack else dependent.stack
        target = instance_id(component, stack)
        if target in self.ids:
            ids.append(target)
        else:
            errors.append(f"{where}: {target} does not exist")
