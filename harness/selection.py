"""Which instances a run covers: glob filters, the what-if affected set, and closure over the graph.

The pytest options and the `stackharness run` flags share this, so `--changed` means the same
in both. Steps, in order:

1. the deployable instances matching every glob filter (`--stack`, `--component`,
   `--environment-type`; none given: all of them);
2. with `--changed` (instance ids or files) and/or `--changed-ref REF`, only those the what-if
   analysis reports as affected (`stackharness what-if` shows the same set and the reasons);
3. `--include-dependencies` adds everything they depend on, `--include-dependents` everything that
   depends on them, transitively, whatever the filters said.

Example: `--changed stacks/catalog/vpc.yaml --include-dependents` selects the instances configured
by that file and all their dependents.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UsageError
from harness.stacks.model import ComponentInstance, StackSet

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.graph import DependencyGraph


@dataclass(frozen=True)
class Selection:
    """The selection flags of a run (empty: every deployable instance)."""

    stacks: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    environment_types: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()          # instance ids and/or files (manifests, Terraform code)
    changed_ref: str | None = None         # git ref of the stacks repository to compare against
    include_dependencies: bool = False
    include_dependents: bool = False

    @property
    def uses_changes(self) -> bool:
        return bool(self.changed or self.changed_ref)

    def to_json(self) -> dict[str, Any]:
        """The flags that were given, by their config/JSON names (for report headers)."""
        values: Mapping[str, Any] = {
            "stack": list(self.stacks), "component": list(self.components),
            "environment_type": list(self.environment_types), "changed": list(self.changed),
            "changed_ref": self.changed_ref, "include_dependencies": self.include_dependencies,
            "include_dependents": self.include_dependents,
        }
        return {key: value for key, value in values.items() if value}


def select(stack_set: StackSet, selection: Selection, *, graph: DependencyGraph | None = None,
           config: HarnessConfig | None = None) -> tuple[ComponentInstance, ...]:
    """The selected deployable instances, sorted by id (see the module docstring).

    `config` is needed only for `changed_ref` (to load the repository as it was at that ref).
    Raises `UsageError` (or `GraphError`) for a `--changed` value that is neither an instance nor a file.
    """
    chosen = {i.id for i in stack_set.select(stacks=selection.stacks, components=selection.components,
                                             environment_types=selection.environment_types)}
    if selection.uses_changes or selection.include_dependencies or selection.include_dependents:
        from harness.graph import DependencyGraph

        graph = graph or DependencyGraph.build(stack_set)
    if selection.uses_changes:
        assert graph is not None
        chosen &= affected(stack_set, selection, graph=graph, config=config)
    if chosen and (selection.include_dependencies or selection.include_dependents):
        assert graph is not None
        chosen = set(graph.closure(sorted(chosen), include_dependencies=selection.include_dependencies,
                                   include_dependents=selection.include_dependents))
    return tuple(i for i in stack_set.deployable if i.id in chosen)


def affected(stack_set: StackSet, selection: Selection, *, graph: DependencyGraph,
             config: HarnessConfig | None) -> set[str]:
    """The instance ids the what-if analysis reports as affected by `changed` and `changed_ref`."""
    from harness.whatif import ChangeSet, checkout_ref, what_if

    instances, files = [], []
    for value in selection.changed:
        if stack_set.get(value) is not None:
            instances.append(value)
        elif _is_file(value, stack_set.repo):
            files.append(value)
        elif "@" in value:
            graph.node(value)   # raises GraphError with a did-you-mean hint
        else:
            raise UsageError(f"--changed {value}: no such instance or file",
                             hint="give an instance id component@stack, or a file of the stacks repository "
                                  "(a manifest or a Terraform file)")
    with ExitStack() as stack:
        base = None
        if selection.changed_ref:
            if config is None:
                raise UsageError("--changed-ref needs the harness configuration")
            from harness.stacks import load

            folder = stack.enter_context(checkout_ref(stack_set.repo, selection.changed_ref))
            base = load(folder, config.with_overrides(stacks_repo=folder))
        result = what_if(stack_set, ChangeSet(instances=tuple(instances), files=tuple(files)), base=base,
                         graph=graph)
    return set(result.affected)


def _is_file(value: str, repo: str) -> bool:
    path = Path(value)
    return (Path(repo) / path).exists() or path.exists()
