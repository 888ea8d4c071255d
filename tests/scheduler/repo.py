"""Generated Atmos repositories for the scheduling and runner tests (written into tmp_path).

`write_repo(root, {"prod": {"vpc": [], "subnet": ["vpc"]}})` writes `atmos.yaml`, one manifest per
stack (`stacks/deploy/<stack>.yaml`, stack name = its `stage`) and one Terraform folder per component
(`components/terraform/<component>/main.tf`, from `main_tf`). Dependencies are component names in the
same stack, or `component@stack` for another stack.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ATMOS_YAML = """\
base_path: "."
components:
  terraform:
    base_path: components/terraform
    workspaces_enabled: true
stacks:
  base_path: stacks
  included_paths: ["deploy/**/*"]
  name_pattern: "{stage}"
"""

# 14 components per stack, 6 levels; `cdn` ends the longest chain (net, vpc, subnet, db, app, web, cdn).
LAYERED: dict[str, list[str]] = {
    "net": [], "iam": [], "queue": [],
    "vpc": ["net"], "kms": ["iam"],
    "subnet": ["vpc"], "sg": ["vpc"], "key": ["kms"],
    "db": ["subnet", "sg", "key"], "cache": ["subnet"],
    "app": ["db", "cache", "queue"], "worker": ["queue"],
    "web": ["app"], "cdn": ["web"],
}


def write_repo(root: Path, stacks: Mapping[str, Mapping[str, Sequence[str]]], *,
               environment_types: Mapping[str, str] | None = None,
               backend: Mapping[str, Any] | None = None,
               component_vars: Callable[[str, str], Mapping[str, Any]] | None = None,
               main_tf: Callable[[str], str] | None = None,
               harness_config: Mapping[str, Any] | None = None) -> Path:
    """Write the repository and return `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "atmos.yaml").write_text(ATMOS_YAML)
    if harness_config:
        (root / "stackharness.yaml").write_text(yaml.safe_dump(dict(harness_config)))
    components: set[str] = set()
    for stack, graph in stacks.items():
        body: dict[str, Any] = {"vars": {"stage": stack}, "components": {"terraform": {}}}
        if environment_types and stack in environment_types:
            body["settings"] = {"stackharness": {"environment_type": environment_types[stack]}}
        if backend is not None:
            body["terraform"] = {"backend_type": "s3", "backend": {"s3": dict(backend)}}
        for component, deps in graph.items():
            components.add(component)
            section: dict[str, Any] = {"vars": dict(component_vars(stack, component)) if component_vars else {}}
            if deps:
                section["dependencies"] = {"components": [
                    {"component": d.split("@")[0], "stack": d.split("@")[1]} if "@" in d else {"component": d}
                    for d in deps]}
            body["components"]["terraform"][component] = section
        path = root / "stacks" / "deploy" / f"{stack}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(body, sort_keys=True))
    for component in sorted(components):
        folder = root / "components" / "terraform" / component
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "main.tf").write_text(main_tf(component) if main_tf else f"# {component}\n")
    return root


def random_dag(seed: int, size: int, *, levels: tuple[int, int] = (3, 8),
               max_deps: int = 3) -> dict[str, list[str]]:
    """A random layered DAG of `size` components (names c000...), each depending on up to `max_deps`
    components of earlier levels."""
    rng = random.Random(seed)
    depth = rng.randint(*levels)
    level_of = sorted(rng.randrange(depth) for _ in range(size))
    level_of[0] = 0
    names = [f"c{n:03d}" for n in range(size)]
    graph: dict[str, list[str]] = {}
    for n, name in enumerate(names):
        earlier = [names[m] for m in range(n) if level_of[m] < level_of[n]]
        count = min(len(earlier), rng.randint(1, max_deps)) if earlier else 0
        graph[name] = sorted(rng.sample(earlier, count))
    return graph


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
