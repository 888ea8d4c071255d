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
from harness.stacks.contributions import Contributors
from harness.stacks.inheritance import (
    InheritanceError,
    InheritanceResolver,
    component_path,
    terraform_folder,
)
from harness.stacks.manifest import Node, component_overrides
from harness.stacks.merge import LIST_STRATEGIES, MergeTypeError, merge_layers, strip_markers
from harness.stacks.naming import (
    NamingError,
    atlantis_project,
    s3_state_key,
    s3_workspace_key_prefix,
    spacelift_stack,
    stack_name,
    workspace,
)
from harness.stacks.templates import SectionRenderer, contains_template

_EMPTY: Mapping[str, Any] = {}
_OWN_SECTIONS = ("vars", "settings", "env", "providers", "hooks", "backend", "remote_state_backend",
                 "dependencies", "overrides", "metadata")


@dataclass
class Issue:
    """A problem found while resolving one component (turned into a `ResolutionProblem` by the caller)."""

    message: str
    component: str
    kind: str
    key_path: tuple[str, ...] = ()
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
    files: tuple[str, ...]
    imports: frozenset[str]
    section_files: tuple[str, ...] | None = None   # the files of `files` that reach this section
    unsupported_templates: list[str] = field(default_factory=list)
    missing_templates: list[tuple[str, str]] = field(default_factory=list)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else _EMPTY


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
        self._with_base: dict[tuple[str, int, str], tuple[Any, Any]] = {}

    def with_base(self, key: str, base: Mapping[str, Any] | None, strategy: str) -> Any:
        """This stack's section merged with a base component's, once per base: the components of a
        stack that share a base (a catalog family) share the result."""
        own = self.sections[key]
        if not base or not own:
            return base or own
        memo_key = (key, id(base), strategy)
        hit = self._with_base.get(memo_key)
        if hit is None or hit[1] is not base:
            hit = (merge_layers((own, base), strategy), base)
            self._with_base[memo_key] = hit
        return hit[0]


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
        self._folders: dict[tuple[str, str, bool], str] = {}
        self._infos: dict[tuple[str, str], dict[str, str]] = {}
        self._backends: dict[tuple[int, str, str], tuple[dict[str, Any], Any]] = {}

    def resolve(self, root: Node) -> tuple[list[Draft], list[Issue]]:
        """Every component of every type defined in the manifest's closure."""
        drafts: list[Draft] = []
        issues: list[Issue] = []
        config = root.config
        strategy = self.atmos.list_merge_strategy
        components = _mapping(config.get("components"))
        manifest_name = config.get("name") if isinstance(config.get("name"), str) else None
        contributors = _contributors(root)
        for kind in COMPONENT_TYPES:
            typed_components = components.get(kind)
            if not typed_components:
                continue
            if not isinstance(typed_components, dict):
                issues.append(Issue(f"components.{kind} must be a mapping of component names", "*", kind,
                                    ("components", kind)))
                continue
            try:
                globals_ = _Globals(config, kind, strategy)
                overrides = component_overrides(root, kind, strategy) if root.has_overrides else None
            except MergeTypeError as exc:
                issues.append(Issue(str(exc), "*", kind, exc.path))
                continue
            for name, section in typed_components.items():
                name = str(name)
                try:
                    draft = self._component(root, kind, name, section, typed_components, globals_,
                                            overrides, manifest_name, issues, contributors)
                except InheritanceError as exc:
                    stack = self._best_effort_stack(root, globals_, section, manifest_name)
                    issues.append(Issue(exc.message, name, kind, exc.key_path, hint=exc.hint, stack=stack))
                    continue
                except MergeTypeError as exc:
                    stack = self._best_effort_stack(root, globals_, section, manifest_name)
                    issues.append(Issue(f"{exc}", name, kind, ("components", kind, name, *exc.path),
                                        stack=stack))
                    continue
                except NamingError as exc:
                    issues.append(Issue(exc.message, name, kind, ("components", kind, name), hint=exc.hint))
                    continue
                if draft is not None:
                    drafts.append(draft)
        return drafts, issues

    def _best_effort_stack(self, root: Node, globals_: _Globals, section: Any,
                           manifest_name: str | None) -> str:
        """The stack name from the stack's and the component's own vars (for naming an error)."""
        own = section.get("vars") if isinstance(section, dict) else None
        try:
            vars_ = merge_layers((globals_.sections["vars"], own if isinstance(own, dict) else None))
            return stack_name(manifest_name=manifest_name, name_template=self.atmos.name_template,
                              name_pattern=self.atmos.name_pattern, stack_file=root.key,
                              section={"vars": vars_})
        except (NamingError, MergeTypeError):
            return root.key

    # -- one component ---------------------------------------------------------------------------
    def _component(self, root: Node, kind: str, name: str, section: Any, all_components: Mapping[str, Any],
                   globals_: _Globals, overrides: Mapping[str, Any] | None, manifest_name: str | None,
                   issues: list[Issue], contributors: Contributors) -> Draft | None:
        # Hot path (runs once per instance): plain dict lookups, no helper layers.
        atmos = self.atmos
        if section is None:
            section = _EMPTY
        elif type(section) is not dict:
            raise InheritanceError(f"components.{kind}.{name} must be a mapping", ("components", kind, name))
        for key in _OWN_SECTIONS:
            value = section.get(key)
            if value is not None and type(value) is not dict:
                raise InheritanceError(f"components.{kind}.{name}.{key} must be a mapping",
                                       ("components", kind, name, key))
        own_metadata = section.get("metadata") or _EMPTY
        steps = self.inheritance.plan(kind, name, section, all_components,
                                      atmos.component_base_paths.get(kind))
        base = self.inheritance.resolve(steps)
        base_sections = base.sections
        own_overrides = section.get("overrides") or _EMPTY if overrides is None else overrides.get(name) or _EMPTY
        gsec = globals_.sections

        strategy = atmos.list_merge_strategy
        for layer in (gsec["settings"], base_sections.get("settings"), section.get("settings"),
                      own_overrides.get("settings")):
            if layer and "list_merge_strategy" in layer and layer["list_merge_strategy"] in LIST_STRATEGIES:
                strategy = layer["list_merge_strategy"]

        def merged(key: str) -> Any:
            return merge_layers((globals_.with_base(key, base_sections.get(key), strategy), section.get(key),
                                 own_overrides.get(key)), strategy)

        vars_ = merged("vars")
        settings = merged("settings")
        if atmos.integrations_github:
            settings = _with_github(settings, atmos.integrations_github, strategy)
        if kind == "terraform" and own_metadata.get("type") == "abstract":
            settings = _without_spacelift_workspace(settings)
        metadata = (merge_layers((base.metadata, own_metadata), strategy)
                    if base.metadata and atmos.inherit_metadata else own_metadata)
        folder = terraform_folder(name, section, all_components, kind)
        command = (own_overrides.get("command") or section.get("command") or base.scalars.get("command")
                   or globals_.scalars["command"] or atmos.commands.get(kind, kind))
        out: dict[str, Any] = {
            "atmos_component": name,
            "atmos_manifest": root.key,
            "atmos_stack_file": root.key,
            "command": command,
            "component": folder,
            "component_info": self._component_info(kind, folder),
            "env": merged("env"),
            "inheritance": base.inheritance_list,
            "metadata": metadata,
            "overrides": own_overrides,
            "settings": settings,
            "vars": vars_,
        }
        dependencies = merge_layers((gsec["dependencies"], base_sections.get("dependencies"),
                                     section.get("dependencies")), strategy)
        if dependencies:
            out["dependencies"] = dependencies

        try:
            stack = stack_name(manifest_name=manifest_name, name_template=atmos.name_template,
                               name_pattern=atmos.name_pattern, stack_file=root.key, section=out)
        except NamingError as exc:
            raise NamingError(f"cannot name the stack of component {name!r}: {exc.message}",
                              exc.hint) from None
        out["atmos_stack"] = stack
        out["stack"] = stack
        if "spacelift" in settings or "atlantis" in settings:
            self._integrations(out, settings, vars_, stack, name, folder)

        state_key = None
        if kind == "terraform":
            state_key = self._terraform(out, section, base, globals_, name, folder, metadata, vars_, stack,
                                        strategy)
            out["providers"] = merged("providers")
            out["hooks"] = merged("hooks")

        if root.has_markers:
            out = strip_markers(out)
        draft = Draft(component=name, kind=kind, stack=stack, stack_file=root.key, manifest=root.path,
                      section=out, terraform_component=folder, component_path=self._folder_path(kind, folder),
                      state_key=state_key, files=root.files, imports=root.import_keys,
                      section_files=contributors.of(kind, (name, *base.inheritance)))
        if root.has_templates and contains_template(out, self._template_memo):
            self._render(draft, issues)
        return draft

    def _integrations(self, out: dict[str, Any], settings: Mapping[str, Any], vars_: Mapping[str, Any],
                      stack: str, name: str, folder: str) -> None:
        """The names Atmos adds for its Spacelift and Atlantis integrations (templates may use them)."""
        spacelift = spacelift_stack(settings, vars_, stack, name, folder)
        if spacelift:
            out["spacelift_stack"] = spacelift
        project = atlantis_project(settings, vars_, name, folder, self.atmos.atlantis_project_templates)
        if project:
            out["atlantis_project"] = project

    def _terraform(self, out: dict[str, Any], section: Mapping[str, Any], base: Any, globals_: _Globals,
                   name: str, folder: str, metadata: Mapping[str, Any], vars_: Mapping[str, Any],
                   stack: str, strategy: str) -> str | None:
        """Backend, remote state backend and workspace; returns the S3 state key (or None)."""
        gsec, bsec, scalars = globals_.sections, base.sections, globals_.scalars
        backend_type = _last_non_empty(scalars["backend_type"], base.scalars.get("backend_type"),
                                       section.get("backend_type"))
        backend_all = merge_layers((gsec["backend"], bsec.get("backend"), section.get("backend")), strategy)
        backend = backend_all.get(backend_type) if backend_type else None
        if backend is not None and type(backend) is not dict:
            raise InheritanceError(f"backend.{backend_type} must be a mapping",
                                   ("components", "terraform", name, "backend", backend_type))
        backend = self._with_backend_defaults(backend, backend_type, name, folder, metadata)
        rsb_type = _last_non_empty(backend_type, scalars["remote_state_backend_type"],
                                   base.scalars.get("remote_state_backend_type"),
                                   section.get("remote_state_backend_type"))
        rsb_all = merge_layers((gsec["remote_state_backend"], bsec.get("remote_state_backend"),
                                section.get("remote_state_backend")), strategy)
        if rsb_all:
            whole = {backend_type: backend} if backend_type else None
            with_backend = merge_layers((whole, rsb_all), strategy)
            rsb = with_backend.get(rsb_type)
        else:
            rsb = backend if rsb_type == backend_type else None
        out["backend_type"] = backend_type
        out["backend"] = backend
        out["remote_state_backend_type"] = rsb_type
        out["remote_state_backend"] = rsb if type(rsb) is dict else {}
        enabled = self.atmos.workspaces_enabled and backend_type != "http"
        ws = workspace(prefix=stack, component=name, terraform_component=folder, metadata=metadata,
                       vars_=vars_, section=out, enabled=enabled)
        out["workspace"] = ws
        return s3_state_key(backend, ws) if backend_type == "s3" else None

    def _with_backend_defaults(self, backend: Mapping[str, Any] | None, backend_type: str, name: str,
                               folder: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """The backend sub-map with Atmos's defaults (`workspace_key_prefix`, gcs `prefix`); one dict per
        distinct (sub-map, default), shared by every instance it applies to (read-only)."""
        default = s3_workspace_key_prefix({}, name, folder, metadata) if backend_type in ("s3", "gcs") else ""
        key = (id(backend), backend_type, default)
        hit = self._backends.get(key)
        if hit is not None and hit[1] is backend:
            return hit[0]
        result = dict(backend) if backend else {}
        if backend_type == "s3":
            result["workspace_key_prefix"] = s3_workspace_key_prefix(result, name, folder, metadata)
        elif backend_type == "gcs" and not result.get("prefix"):
            result["prefix"] = default
        self._backends[key] = (result, backend)
        return result

    def _component_info(self, kind: str, folder: str) -> dict[str, str]:
        key = (kind, folder)
        info = self._infos.get(key)
        if info is None:
            info = {"component_path": self._folder_path(kind, folder, raw=True), "component_type": kind}
            self._infos[key] = info
        return info

    def _folder_path(self, kind: str, folder: str, raw: bool = False) -> str:
        """The component folder: absolute, or as Atmos prints it (`raw`: a join of the base paths)."""
        key = (kind, folder, raw)
        path = self._folders.get(key)
        if path is None:
            if raw:
                path = component_path(self.atmos.component_base_paths_raw.get(kind, ""), folder)
            else:
                root = self.atmos.component_base_paths.get(kind)
                path = str((root / folder).resolve()) if root else folder
            self._folders[key] = path
        return path

    def _render(self, draft: Draft, issues: list[Issue]) -> None:
        renderer = SectionRenderer(draft.section, self._template_memo)
        rendered = renderer.value(draft.section)
        draft.missing_templates = renderer.missing
        draft.unsupported_templates = renderer.unsupported
        if rendered is not draft.section:
            draft.section = rendered
            if draft.kind == "terraform" and draft.section.get("backend_type") == "s3":
                draft.state_key = s3_state_key(draft.section.get("backend") or {}, draft.section["workspace"])


def _contributors(root: Node) -> Contributors:
    """Which files of the root's closure reach which component (each node of the closure once)."""
    seen: dict[int, Node] = {}
    for node in root.walk():
        seen.setdefault(id(node), node)
    return Contributors(root.files, ((str(n.path), n.role) for n in seen.values()))


def _without_spacelift_workspace(settings: Mapping[str, Any]) -> Mapping[str, Any]:
    """Atmos drops `settings.spacelift.workspace_enabled` from abstract components."""
    spacelift = settings.get("spacelift")
    if not isinstance(spacelift, dict) or "workspace_enabled" not in spacelift:
        return settings
    return {**settings, "spacelift": {k: v for k, v in spacelift.items() if k != "workspace_enabled"}}


def _with_github(settings: Mapping[str, Any], github: Mapping[str, Any], strategy: str) -> Mapping[str, Any]:
    """Atmos merges atmos.yaml `integrations.github` under `settings.integrations.github`."""
    integrations = _mapping(settings.get("integrations"))
    merged = merge_layers([github, _mapping(integrations.get("github"))], strategy)
    if not merged:
        return settings
    return {**settings, "integrations": {**integrations, "github": merged}}

