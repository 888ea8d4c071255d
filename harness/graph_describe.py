"""Atmos-shaped answers from the graph: `describe dependents` and `describe affected`.

The shapes follow Atmos's JSON (`schema.Dependent` and `schema.Affected`): empty context fields are
left out, `dependents` is null unless nested dependents were asked for, `settings` is null unless
`include_settings`. Atmos considers every enabled, non-abstract component of any type (a helmfile
release may depend on a Terraform component), so the graph here is built over those.

Unlike Atmos, nested dependents are guarded against cycles: an instance already on the current
path is not expanded again (Atmos recursed without a guard, cloudposse/atmos#2270 and #2485).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from harness.graph import DependencyGraph
from harness.stacks.model import ComponentInstance, StackSet, instance_id
from harness.whatif import compare_stacksets

CONTEXT_FIELDS = ("namespace", "tenant", "environment", "stage")


def atmos_visible(instance: ComponentInstance) -> bool:
    """The instances Atmos's describe commands look at: enabled and not abstract, any component type."""
    return not instance.abstract and instance.enabled


def stack_slug(instance: ComponentInstance) -> str:
    """`<stack>-<component with / replaced by ->`, as Atmos writes it."""
    return f"{instance.stack}-{instance.component.replace('/', '-')}"


def _component_path(instance: ComponentInstance, repo: str) -> str | None:
    if not instance.component_path:
        return None
    return os.path.relpath(instance.component_path, repo) if os.path.isabs(instance.component_path) \
        else instance.component_path


def _entry(instance: ComponentInstance, repo: str, include_settings: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "component": instance.component,
        "component_type": instance.component_type,
        "component_path": _component_path(instance, repo),
    }
    for name in CONTEXT_FIELDS:
        value = instance.vars.get(name)
        if value not in (None, ""):
            entry[name] = value
    entry["stack"] = instance.stack
    entry["stack_slug"] = stack_slug(instance)
    entry["dependents"] = None
    entry["included_in_dependents"] = False
    entry["settings"] = dict(instance.settings) if include_settings else None
    return entry


class AtmosDescriber:
    """Answers `describe dependents` / `describe affected` over one stack set."""

    def __init__(self, stackset: StackSet, *, include: Callable[[ComponentInstance], bool] = atmos_visible,
                 graph: DependencyGraph | None = None) -> None:
        self.stackset = stackset
        self.include = include
        self.graph = graph or DependencyGraph.build(stackset, include=include)

    def _instance(self, instance: str) -> ComponentInstance:
        self.graph.node(instance)   # raises GraphError with a did-you-mean hint
        found = self.stackset.get(instance)
        assert found is not None
        return found

    def _nested(self, instance: str, include_settings: bool, path: frozenset[str]) -> list[dict[str, Any]]:
        out = []
        for dependent in self.graph.dependents(instance):
            entry = _entry(self._instance(dependent), self.stackset.repo, include_settings)
            if dependent not in path:
                entry["dependents"] = self._nested(dependent, include_settings, path | {dependent})
            out.append(entry)
        return sorted(out, key=lambda e: e["stack_slug"])

    def dependents(self, component: str, stack: str, *, include_settings: bool = False,
                   include_dependents: bool = False) -> list[dict[str, Any]]:
        """The direct dependents of `component` in `stack`, sorted by stack_slug (Atmos's order)."""
        target = instance_id(component, stack)
        self._instance(target)
        out = []
        for dependent in self.graph.dependents(target):
            entry = _entry(self._instance(dependent), self.stackset.repo, include_settings)
            if include_dependents:
                entry["dependents"] = self._nested(dependent, include_settings,
                                                   frozenset({target, dependent}))
            out.append(entry)
        return sorted(out, key=lambda e: e["stack_slug"])

    def affected(self, base: StackSet, *, include_dependents: bool = False,
                 include_settings: bool = False) -> list[dict[str, Any]]:
        """Instances whose resolved sections differ from `base`, in the shape of `atmos describe affected`.

        `affected` is the first changed section (`stack.metadata`, `component`, `stack.vars`,
        `stack.env`, `stack.settings`, `stack.backend`, `stack.providers`), `affected_all` all of
        them. Instances removed since `base` are not listed (they have no current configuration).
        """
        reasons = compare_stacksets(base, self.stackset, include=self.include)
        out = []
        for instance_id_, found in reasons.items():
            instance = self.stackset.get(instance_id_)
            if instance is None:
                continue
            labels = _atmos_labels(found, instance)
            entry = _entry(instance, self.stackset.repo, include_settings)
            entry.pop("dependents")
            entry.pop("included_in_dependents")
            settings = entry.pop("settings")
            entry["affected"] = labels[0]
            entry["affected_all"] = labels
            entry["dependents"] = (self._nested(instance.id, include_settings, frozenset({instance.id}))
                                   if include_dependents else None)
            entry["included_in_dependents"] = False
            entry["settings"] = settings
            out.append(entry)
        if include_dependents:
            listed = {instance_id(e["component"], e["stack"]) for e in out}
            for entry in out:
                own = instance_id(entry["component"], entry["stack"])
                ancestors = set(self.graph.dependencies(own, transitive=True))
                entry["included_in_dependents"] = bool(ancestors & (listed - {own}))
        return sorted(out, key=lambda e: e["stack_slug"])


def _atmos_labels(reasons: list, instance: ComponentInstance) -> list[str]:
    labels = [r.atmos for r in reasons if r.atmos]
    if not labels:   # an instance new since base: Atmos compares against nothing, metadata comes first
        empty: Mapping[str, Any] = {}
        labels = [f"stack.{name}" for name in ("metadata", "vars", "env", "settings")
                  if getattr(instance, name) != empty] or ["stack.metadata"]
    return list(dict.fromkeys(labels))
