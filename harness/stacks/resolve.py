"""One stack manifest -> its component sections, as `atmos describe stacks` prints them.

Precedence per section (low to high): top-level `vars`/`settings`/`env` -> the `terraform:` (or
`helmfile:`/`packer:`) section -> base components (see `inheritance.py`) -> the component -> its
`overrides` (see `manifest.component_overrides`). `command`, `backend_type` and
`remote_state_backend_type`: the last non-empty of the same layers. Only the sub-map of the final
`backend_type` is kept in `backend`; `remote_state_backend` starts from the whole backend section.
After merging, the stack name, workspace and backend defaults are computed, then every string of the
section is rendered with the template subset (see `templates.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.stacks.atmos_config import COMPONENT_TYPES, AtmosConfig
from harness.stacks.inheritance import (
    SECTIONS,
    InheritanceError,
    InheritanceResolver,
    component_path,
    terraform_folder,
)
from harness.stacks.manifest import Node, component_overrides
from harness.stacks.merge import LIST_STRATEGIES, MergeTypeError, merge_layers, strip_markers
from harness.stacks.naming import (
    NamingError,
    s3_state_key,
    s3_workspace_key_prefix,
    stack_name,
    workspace,
)
from harness.stacks.templates import SectionRenderer, contains_template

_EMPTY: Mapping[str, Any] = {}


@dataclass
class Issue:
    """A problem found while resolving one component (turned into a `ResolutionProblem` by the caller)."""

    message: str
    component: str
    kind: str
    key_path: tuple[str, ...] = ()
    fatal: bool = True
    severity: str = "error"
    hint: str | None = None
    stack: str | None = None


@dataclass
class Draft:
    """A resolved component before dependencies and environment are attached."""

    component: str
    kind: str
    stack: str
    stack_file: str
    manifest: Path
    section: dict[str, Any]
    terraform_component: str
    component_path: str                   # absolute folder
    state_key: str | None
    files: tuple[Path, ...]
    imports: frozenset[str]
    unsupported_templates: list[str] = field(default_factory=list)
    missing_templates: list[tuple[str, str]] = field(default_factory=list)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


class _Globals:
    """The stack-level layers for one component type, computed once per manifest."""

    def __init__(self, config: Mapping[str, Any], kind: str, strategy: str) -> None:
        typed = _mapping(config.get(kind))
        self.typed = typed
        self.sections: dict[str, Mapping[str, Any]] = {
            "vars": merge_layers([_mapping(config.get("vars")), _mapping(typed.get("vars"))], strategy),
            "settings": merge_layers([_mapping(config.get("settings")), _mapping(typed.get("settings"))],
                                     strategy),
            "env": merge_layers([_mapping(config.get("env")), _mapping(typed.get("env"))], strategy),
            "hooks": merge_layers([_mapping(config.get("hooks")), _mapping(typed.get("hooks"))], strategy),
            "dependencies": merge_layers([_mapping(config.get("dependencies")),
                                          _mapping(typed.get("dependencies"))], strategy),
            "providers": _mapping(typed.get("providers")),
            "backend": _mapping(typed.get("backend")),
            "remote_state_backend": _mapping(typed.get("remote_state_backend")),
        }
        self.scalars = {name: typed.get(name) if isinstance(typed.get(name), str) else ""
                        for name in ("command", "backend_type", "remote_state_backend_type")}


def _last_non_empty(*values: Any) -> str:
    result = ""
    for value in values:
        if isinstance(value, str) and value:
            result = value
    return result


class ManifestResolver:
    """Resolves the components of top-level manifests; caches live as long as the instance."""

    def __init__(self, atmos: AtmosConfig) -> None:
        self.atmos = atmos
        self.inheritance = InheritanceResolver(atmos.list_merge_strategy, atmos.inherit_metadata)
        self._template_memo: dict[int, tuple[bool, Any]] = {}

    def resolve(self, root: Node) -> tuple[list[Draft], list[Issue]]:
        """Every component of every type defined in the manifest's closure."""
        drafts: list[Draft] = []
        issues: list[Issue] = []
        config = root.config
        strategy = self.atmos.list_merge_strategy
        components = _mapping(config.get("components"))
        manifest_name = config.get("name") if isinstance(config.get("name"), str) else None
        for kind in COMPONENT_TYPES:
            typed_components = components.get(kind)
            if not typed_components:
                continue
            if not isinstance(typed_components, Mapping):
                issues.append(Issue(f"components.{kind} must be a mapping of component names", "*", kind,
                                    ("components", kind)))
                continue
            try:
                globals_ = _Globals(config, kind, strategy)
            except MergeTypeError as exc:
                issues.append(Issue(str(exc), "*", kind, exc.path))
                continue
            overrides = component_overrides(root, kind, strategy) if root.has_overrides else None
            for name, section in typed_components.items():
                name = str(name)
                try:
                    draft = self._component(root, kind, name, section, typed_components, globals_,
                                            overrides, manifest_name, issues)
                except InheritanceError as exc:
                    issues.append(Issue(exc.message, name, kind, exc.key_path, hint=exc.hint))
                    continue
                except MergeTypeError as exc:
                    issues.append(Issue(f"{exc}", name, kind, ("components", kind, name, *exc.path)))
                    continue
                except NamingError as exc:
                    issues.append(Issue(exc.message, name, kind, ("components", kind, name), hint=exc.hint))
                    continue
                if draft is not None:
                    drafts.append(draft)
        return drafts, issues

    # -- one component ---------------------------------------------------------------------------
    def _component(self, root: Node, kind: str, name: str, section: Any, all_components: Mapping[str, Any],
                   globals_: _Globals, overrides: Mapping[str, Any] | None, manifest_name: str | None,
                   issues: list[Issue]) -> Draft | None:
        atmos = self.atmos
        if section is None:
            section = _EMPTY
        if not isinstance(section, Mapping):
            raise InheritanceError(f"components.{kind}.{name} must be a mapping", ("components", kind, name))
        own_metadata = section.get("metadata") or _EMPTY
        if not isinstance(own_metadata, Mapping):
            raise InheritanceError(f"components.{kind}.{name}.metadata must be a mapping",
                                   ("components", kind, name, "metadata"))
        folder_root = atmos.component_base_paths.get(kind)
        steps = self.inheritance.plan(kind, name, section, all_components, folder_root)
        base = self.inheritance.resolve(steps)

        if overrides is None:
            own_overrides = _mapping(section.get("overrides"))
        else:
            own_overrides = overrides.get(name) or _EMPTY

        strategy = atmos.list_merge_strategy
        for layer in (globals_.sections["settings"], base.sections.get("settings") or _EMPTY,
                      _mapping(section.get("settings")), _mapping(own_overrides.get("settings"))):
            value = layer.get("list_merge_strategy")
            if isinstance(value, str) and value in LIST_STRATEGIES:
                strategy = value

        merged: dict[str, Any] = {}
        for key in ("vars", "settings", "env"):
            merged[key] = self._merge_section(key, globals_.sections[key], base, section, own_overrides,
                                              strategy, kind, name)
        if kind == "terraform":
            for key in ("providers", "hooks"):
                merged[key] = self._merge_section(key, globals_.sections[key], base, section, own_overrides,
                                                  strategy, kind, name)
        dependencies = merge_layers([globals_.sections["dependencies"], base.sections.get("dependencies"),
                                     _mapping(section.get("dependencies"))], strategy)

        if atmos.inherit_metadata and base.metadata:
            metadata = merge_layers([base.metadata, own_metadata], strategy)
        else:
            metadata = own_metadata
        if atmos.integrations_github:
            merged["settings"] = _with_github(merged["settings"], atmos.integrations_github, strategy)

        folder = terraform_folder(name, section, all_components, kind)
        command = _last_non_empty(atmos.commands.get(kind, kind), globals_.scalars["command"],
                                  base.scalars.get("command"), section.get("command"),
                                  own_overrides.get("command"))

        out: dict[str, Any] = {
            "atmos_component": name,
            "atmos_manifest": root.key,
            "atmos_stack_file": root.key,
            "command": command,
            "component": folder,
            "component_info": {
                "component_path": component_path(atmos.component_base_paths_raw.get(kind, ""), folder),
                "component_type": kind,
            },
            "env": merged["env"],
            "inheritance": list(base.inheritance),
            "metadata": metadata,
            "overrides": own_overrides,
            "settings": merged["settings"],
            "vars": merged["vars"],
        }
        if dependencies:
            out["dependencies"] = dependencies

        name_section = out
        try:
            stack = stack_name(manifest_name=manifest_name, name_template=atmos.name_template,
                               name_pattern=atmos.name_pattern, stack_file=root.key, section=name_section)
        except NamingError as exc:
            raise NamingError(f"cannot name the stack of component {name!r}: {exc.message}",
                              exc.hint) from None
        out["atmos_stack"] = stack
        out["stack"] = stack

        state_key = None
        if kind == "terraform":
            backend_type = _last_non_empty(globals_.scalars["backend_type"], base.scalars.get("backend_type"),
                                           section.get("backend_type"))
            backend_all = merge_layers([globals_.sections["backend"], base.sections.get("backend"),
                                        _mapping(section.get("backend"))], strategy)
            backend = backend_all.get(backend_type) if backend_type else None
            if backend is not None and not isinstance(backend, Mapping):
                raise InheritanceError(f"backend.{backend_type} must be a mapping",
                                       ("components", kind, name, "backend", backend_type))
            backend = dict(backend or {})
            if backend_type == "s3":
                backend["workspace_key_prefix"] = s3_workspace_key_prefix(backend, name, folder, metadata)
            elif backend_type == "gcs" and not backend.get("prefix"):
                backend["prefix"] = s3_workspace_key_prefix({}, name, folder, metadata)
            rsb_type = _last_non_empty(backend_type, globals_.scalars["remote_state_backend_type"],
                                       base.scalars.get("remote_state_backend_type"),
                                       section.get("remote_state_backend_type"))
            rsb_all = merge_layers([globals_.sections["remote_state_backend"],
                                    base.sections.get("remote_state_backend"),
                                    _mapping(section.get("remote_state_backend"))], strategy)
            rsb_merged = merge_layers([{backend_type: backend} if backend_type else {}, rsb_all], strategy)
            rsb = rsb_merged.get(rsb_type) if rsb_type else None
            out["backend_type"] = backend_type
            out["backend"] = backend
            out["remote_state_backend_type"] = rsb_type
            out["remote_state_backend"] = dict(rsb) if isinstance(rsb, Mapping) else {}
            out["providers"] = merged["providers"]
            out["hooks"] = merged["hooks"]
            workspaces = atmos.workspaces_enabled and backend_type != "http"
            ws = workspace(prefix=stack, component=name, terraform_component=folder, metadata=metadata,
                           vars_=merged["vars"], section=out, enabled=workspaces)
            out["workspace"] = ws
            if backend_type == "s3":
                state_key = s3_state_key(backend, ws)

        if root.has_markers:
            out = strip_markers(out)
        draft = Draft(component=name, kind=kind, stack=stack, stack_file=root.key, manifest=root.path,
                      section=out, terraform_component=folder,
                      component_path=str((folder_root / folder).resolve()) if folder_root else folder,
                      state_key=state_key, files=root.files, imports=root.import_keys)
        if root.has_templates and contains_template(out, self._template_memo):
            self._render(draft, issues)
        return draft

    def _merge_section(self, key: str, global_layer: Mapping[str, Any], base: Any, section: Mapping[str, Any],
                       overrides: Mapping[str, Any], strategy: str, kind: str, name: str) -> Any:
        own = section.get(key)
        if own is not None and not isinstance(own, Mapping):
            raise InheritanceError(f"components.{kind}.{name}.{key} must be a mapping",
                                   ("components", kind, name, key))
        over = overrides.get(key)
        return merge_layers([global_layer, base.sections.get(key), own,
                             over if isinstance(over, Mapping) else None], strategy)

    def _render(self, draft: Draft, issues: list[Issue]) -> None:
        renderer = SectionRenderer(draft.section)
        rendered = renderer.value(draft.section)
        draft.missing_templates = renderer.missing
        draft.unsupported_templates = renderer.unsupported
        if rendered is not draft.section:
            draft.section = rendered
            if draft.kind == "terraform" and draft.section.get("backend_type") == "s3":
                draft.state_key = s3_state_key(draft.section.get("backend") or {}, draft.section["workspace"])


def _with_github(settings: Mapping[str, Any], github: Mapping[str, Any], strategy: str) -> Mapping[str, Any]:
    """Atmos merges atmos.yaml `integrations.github` under `settings.integrations.github`."""
    integrations = _mapping(settings.get("integrations"))
    merged = merge_layers([github, _mapping(integrations.get("github"))], strategy)
    if not merged:
        return settings
    return {**settings, "integrations": {**integrations, "github": merged}}


__all__ = ["SECTIONS", "Draft", "Issue", "ManifestResolver"]
