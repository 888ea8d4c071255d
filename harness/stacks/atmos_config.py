"""`atmos.yaml`: the parts of the Atmos CLI configuration that decide how stacks resolve."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import StackError, yaml_problem
from harness.stacks.merge import LIST_STRATEGIES, REPLACE
from harness.stacks.yaml_scalars import GoScalarLoader

CONFIG_NAMES = ("atmos.yaml", "atmos.yml", ".atmos.yaml", ".atmos.yml")
COMPONENT_TYPES = ("terraform", "helmfile", "packer")


@dataclass(frozen=True)
class AtmosConfig:
    """Resolved `atmos.yaml` settings; every path is absolute unless its name says `_raw`."""

    path: Path                               # the atmos.yaml file
    base_path: Path
    stacks_base_path: Path
    included_paths: tuple[str, ...]
    excluded_paths: tuple[str, ...]
    name_pattern: str = ""
    name_template: str = ""
    component_base_paths: Mapping[str, Path] = field(default_factory=dict)
    component_base_paths_raw: Mapping[str, str] = field(default_factory=dict)   # Atmos-style join
    commands: Mapping[str, str] = field(default_factory=dict)
    workspaces_enabled: bool = True
    list_merge_strategy: str = REPLACE
    inherit_metadata: bool = True
    integrations_github: Mapping[str, Any] = field(default_factory=dict)
    atlantis_project_templates: Mapping[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent


def find_atmos_config(repo: Path) -> Path | None:
    """The atmos.yaml in the repository folder, if any."""
    for name in CONFIG_NAMES:
        candidate = repo / name
        if candidate.is_file():
            return candidate
    return None


def _line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return number
    return None


def _section(data: Mapping[str, Any], key: str, path: Path, text: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise StackError(f"{key} must be a mapping", where=path, line=_line(text, key),
                         hint="see https://atmos.tools/cli/configuration")
    return value


def _str_list(value: Any, key: str, path: Path, text: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StackError(f"stacks.{key} must be a list of glob strings", where=path,
                         line=_line(text, key))
    return tuple(value)


def load_atmos_config(repo: str | Path) -> AtmosConfig:
    """Read `atmos.yaml` from the repository folder; `StackError` when it is missing or invalid."""
    repo = Path(repo).expanduser().resolve()
    if not repo.is_dir():
        raise StackError(f"the stacks repository {repo} is not a folder", where=repo,
                         hint="pass --stacks-repo DIR (the folder holding atmos.yaml)")
    path = find_atmos_config(repo)
    if path is None:
        raise StackError("no atmos.yaml found", where=repo,
                         hint="pass --stacks-repo DIR pointing at the folder that holds atmos.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StackError("atmos.yaml is not UTF-8 text", where=path, hint="save it as UTF-8") from None
    try:
        data = yaml.load(text, Loader=GoScalarLoader) or {}   # Atmos reads it with go-yaml v3 too
    except yaml.YAMLError as exc:
        what, line = yaml_problem(exc)
        raise StackError(what, where=path, line=line, hint="fix the YAML syntax") from None
    if not isinstance(data, Mapping):
        raise StackError("atmos.yaml must be a mapping", where=path, line=1)

    base_raw = str(data.get("base_path") or "")
    base_path = (path.parent / os.path.expanduser(base_raw)).resolve()
    stacks = _section(data, "stacks", path, text)
    components = _section(data, "components", path, text)
    settings = _section(data, "settings", path, text)

    stacks_base_raw = str(stacks.get("base_path") or "stacks")
    stacks_base_path = (base_path / os.path.expanduser(stacks_base_raw)).resolve()
    if not stacks_base_path.is_dir():
        raise StackError(f"stacks.base_path {stacks_base_raw!r} is not a folder ({stacks_base_path})",
                         where=path, line=_line(text, "base_path"),
                         hint="fix stacks.base_path in atmos.yaml (relative to base_path)")

    bases: dict[str, Path] = {}
    bases_raw: dict[str, str] = {}
    commands: dict[str, str] = {}
    workspaces_enabled = True
    for kind in ("terraform", "helmfile", "packer"):
        section = components.get(kind) or {}
        if not isinstance(section, Mapping):
            raise StackError(f"components.{kind} must be a mapping", where=path, line=_line(text, kind))
        raw = str(section.get("base_path") or f"components/{kind}")
        bases[kind] = (base_path / os.path.expanduser(raw)).resolve()
        bases_raw[kind] = os.path.normpath(os.path.join(base_raw or ".", raw))
        if section.get("command"):
            commands[kind] = str(section["command"])
        if kind == "terraform" and section.get("workspaces_enabled") is False:
            workspaces_enabled = False

    strategy = str(settings.get("list_merge_strategy") or REPLACE)
    if strategy not in LIST_STRATEGIES:
        raise StackError(f"settings.list_merge_strategy {strategy!r} is not one of "
                         f"{', '.join(LIST_STRATEGIES)}", where=path,
                         line=_line(text, "list_merge_strategy"), hint="use replace, append or merge")
    inherit = stacks.get("inherit") or {}
    integrations = data.get("integrations") or {}
    github = integrations.get("github") if isinstance(integrations, Mapping) else None
    atlantis = integrations.get("atlantis") if isinstance(integrations, Mapping) else None
    templates = atlantis.get("project_templates") if isinstance(atlantis, Mapping) else None
    return AtmosConfig(
        path=path,
        base_path=base_path,
        stacks_base_path=stacks_base_path,
        included_paths=_str_list(stacks.get("included_paths"), "included_paths", path, text) or ("**/*",),
        excluded_paths=_str_list(stacks.get("excluded_paths"), "excluded_paths", path, text),
        name_pattern=str(stacks.get("name_pattern") or ""),
        name_template=str(stacks.get("name_template") or ""),
        component_base_paths=bases,
        component_base_paths_raw=bases_raw,
        commands=commands,
        workspaces_enabled=workspaces_enabled,
        list_merge_strategy=strategy,
        inherit_metadata=not (isinstance(inherit, Mapping) and inherit.get("metadata") is False),
        integrations_github=github if isinstance(github, Mapping) else {},
        atlantis_project_templates=templates if isinstance(templates, Mapping) else {},
    )
