"""Hand-built instances and stack sets for the graph tests (no loader needed)."""

from __future__ import annotations

from typing import Any

from harness.stacks.model import ComponentInstance, StackSet


def instance(instance_id: str, *deps: str, environment_type: str | None = None,
             component_type: str = "terraform", metadata: dict[str, Any] | None = None,
             dependency_errors: tuple[str, ...] = (), **fields: Any) -> ComponentInstance:
    """A resolved instance `component@stack` depending on `deps` (ids)."""
    component, _, stack = instance_id.partition("@")
    values: dict[str, Any] = {
        "component": component, "stack": stack, "component_type": component_type,
        "terraform_component": component, "vars": {}, "settings": {}, "env": {},
        "backend_type": "s3", "backend": {}, "metadata": metadata or {}, "providers": {},
        "workspace": stack, "state_key": None, "stack_file": stack,
        "dependencies": tuple(deps), "dependency_errors": dependency_errors,
        "environment_type": environment_type,
    }
    values.update(fields)
    return ComponentInstance(**values)


def stackset(*instances: ComponentInstance, repo: str = "/repo") -> StackSet:
    return StackSet(repo=repo, instances=tuple(instances))
