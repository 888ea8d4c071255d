"""Hand-built instances and stack sets for the graph tests (no loader needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.stacks.model import ComponentInstance, StackSet
from tests.atmos import atmos_yaml


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


ATMOS_YAML = atmos_yaml(name_pattern="{environment}-{stage}")

# vpc -> subnet -> app in ue1-dev and ue1-prod; dns alone in ue1-prod. Both formats of Atmos dependencies.
PLATFORM_REPO = {
    "atmos.yaml": ATMOS_YAML,
    "stacks/catalog/vpc.yaml": """\
components:
  terraform:
    vpc:
      vars: {cidr: 10.0.0.0/16}
    subnet:
      vars: {bits: 8}
      dependencies:
        components: [{component: vpc}]
""",
    "stacks/catalog/app.yaml": """\
components:
  terraform:
    app:
      vars: {replicas: 2}
      settings:
        depends_on:
          1: {component: subnet}
""",
    "stacks/deploy/dev.yaml": """\
import: [catalog/vpc, catalog/app]
vars: {environment: ue1, stage: dev}
""",
    "stacks/deploy/prod.yaml": """\
import: [catalog/vpc, catalog/app]
vars: {environment: ue1, stage: prod}
components:
  terraform:
    dns:
      vars: {zone: example.com}
""",
    "components/terraform/vpc/main.tf": "# vpc\n",
    "components/terraform/subnet/main.tf": "# subnet\n",
    "components/terraform/app/main.tf": "# app\n",
    "components/terraform/dns/main.tf": "# dns\n",
}


def write_repo(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path -> text) under `root` and return it."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
