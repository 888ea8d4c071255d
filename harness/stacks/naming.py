"""Stack names, Terraform workspaces and state keys, computed the way Atmos computes them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from harness.stacks.templates import TemplateMissingKey, render

CONTEXT_FIELDS = ("namespace", "tenant", "environment", "stage")
_TOKEN = re.compile(r"\{([A-Za-z0-9_-]+)\}")
DEFAULT_WORKSPACE = "default"
DEFAULT_STATE_KEY = "terraform.tfstate"


class NamingError(ValueError):
    """A stack name or workspace that cannot be computed (missing value, unsupported template)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@lru_cache(maxsize=64)
def _split_pattern(pattern: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`"{a}-x-{b}"` -> literals `("", "-x-", "")` and tokens `("a", "b")` (computed once per pattern)."""
    parts = _TOKEN.split(pattern)
    return tuple(parts[0::2]), tuple(parts[1::2])


def pattern_name(pattern: str, vars_: Mapping[str, Any], *, what: str = "stacks.name_pattern") -> str:
    """`{tenant}-{environment}-{stage}` filled from the component's vars; every token must be set."""
    literals, tokens = _split_pattern(pattern)
    out = [literals[0]]
    for name, literal in zip(tokens, literals[1:], strict=True):
        value = vars_.get(name)
        if value is None or value == "":
            raise NamingError(f"{what} {pattern!r} needs vars.{name}, which is not set",
                              hint=f"set vars.{name} for the component or its stack")
        out.append(value if type(value) is str else str(value))
        out.append(literal)
    return "".join(out)


def template_name(template: str, section: Mapping[str, Any], *, what: str = "stacks.name_template") -> str:
    try:
        rendered = render(template, section)
    except TemplateMissingKey as exc:
        raise NamingError(f"{what} {template!r} uses {exc.path}, which is not set",
                          hint=f"set {exc.path.lstrip('.')} for the component or its stack") from None
    if not rendered.supported:
        raise NamingError(f"{what} {template!r} uses Go-template features beyond {{{{ .path }}}}",
                          hint="use only {{ .vars.x }}-style references, or --stacks-source atmos")
    return rendered.text


def stack_name(*, manifest_name: str | None, name_template: str, name_pattern: str, stack_file: str,
               section: Mapping[str, Any]) -> str:
    """Precedence: the manifest's `name:` > name_template > name_pattern > the file key."""
    if manifest_name:
        return manifest_name
    if name_template:
        return template_name(name_template, section)
    if name_pattern:
        return pattern_name(name_pattern, section.get("vars") or {})
    return stack_file


def workspace_prefix(*, manifest_name: str | None, name_template: str, name_pattern: str, stack_file: str,
                     section: Mapping[str, Any]) -> str:
    """The stack part of a workspace (Atmos: the file key keeps `/` here, replaced later)."""
    return stack_name(manifest_name=manifest_name, name_template=name_template, name_pattern=name_pattern,
                      stack_file=stack_file, section=section)


_WORKSPACE_TOKENS = ("namespace", "tenant", "environment", "stage", "region", "attributes")


def replace_context_tokens(pattern: str, vars_: Mapping[str, Any], component: str,
                           base_component: str) -> str:
    """Atmos `ReplaceContextTokens`: context tokens in `terraform_workspace_pattern`."""
    values = {name: vars_.get(name) for name in _WORKSPACE_TOKENS}
    values["component"] = component
    values["base-component"] = base_component

    def token(match: re.Match[str]) -> str:
        value = values.get(match.group(1), match.group(0))
        if value is None:
            return ""
        if isinstance(value, list):
            return "-".join(str(v) for v in value)
        return str(value)

    return _TOKEN.sub(token, pattern)


def workspace(*, prefix: str, component: str, terraform_component: str, metadata: Mapping[str, Any],
              vars_: Mapping[str, Any], section: Mapping[str, Any], enabled: bool) -> str:
    """`metadata.terraform_workspace_template` > `_pattern` > `terraform_workspace` > the stack name when
    the component has no base component > `<stack>-<component>`; `/` becomes `-`; `default` when disabled."""
    if not enabled:
        return DEFAULT_WORKSPACE
    base_component = "" if terraform_component == component else terraform_component
    template = metadata.get("terraform_workspace_template")
    pattern = metadata.get("terraform_workspace_pattern")
    fixed = metadata.get("terraform_workspace")
    if isinstance(template, str):
        result = template_name(template, section, what="metadata.terraform_workspace_template")
    elif isinstance(pattern, str):
        result = replace_context_tokens(pattern, vars_, component, base_component)
    elif isinstance(fixed, str):
        result = fixed
    elif not base_component:
        result = prefix
    else:
        result = f"{prefix}-{component}"
    return result.replace("/", "-")


def spacelift_stack(settings: Mapping[str, Any], vars_: Mapping[str, Any], stack: str, component: str,
                    terraform_component: str) -> str | None:
    """Atmos's Spacelift stack name, when `settings.spacelift.workspace_enabled` is true."""
    spacelift = settings.get("spacelift")
    if not isinstance(spacelift, dict) or spacelift.get("workspace_enabled") is not True:
        return None
    pattern = spacelift.get("stack_name_pattern")
    base = "" if terraform_component == component else terraform_component
    if isinstance(pattern, str) and pattern:
        name = replace_context_tokens(pattern, vars_, component, base)
    else:
        name = f"{stack}-{component}"
    return name.replace("/", "-")


def atlantis_project(settings: Mapping[str, Any], vars_: Mapping[str, Any], component: str,
                     terraform_component: str, templates: Mapping[str, Any]) -> str | None:
    """Atmos's Atlantis project name, from `settings.atlantis.project_template(_name)`."""
    atlantis = settings.get("atlantis")
    if not isinstance(atlantis, dict):
        return None
    template = atlantis.get("project_template")
    if not isinstance(template, dict):
        template = templates.get(atlantis.get("project_template_name"))  # type: ignore[arg-type]
    name = template.get("name") if isinstance(template, dict) else None
    if not isinstance(name, str) or not name:
        return None
    base = "" if terraform_component == component else terraform_component
    return replace_context_tokens(name, vars_, component, base)


def s3_workspace_key_prefix(backend: Mapping[str, Any], component: str, terraform_component: str,
                            metadata: Mapping[str, Any]) -> str:
    """Explicit `workspace_key_prefix` > `metadata.name` > the Terraform component, `/` -> `-`."""
    explicit = backend.get("workspace_key_prefix")
    if isinstance(explicit, str) and explicit:
        return explicit
    name = metadata.get("name")
    prefix = name if isinstance(name, str) and name else (terraform_component or component)
    return prefix.replace("/", "-")


def s3_state_key(backend: Mapping[str, Any], workspace_name: str) -> str:
    """The object key Terraform's S3 backend uses: `<prefix>/<workspace>/<key>`, or `<key>` for default."""
    key = backend.get("key") or DEFAULT_STATE_KEY
    if workspace_name == DEFAULT_WORKSPACE:
        return str(key)
    prefix = backend.get("workspace_key_prefix") or "env:"
    return f"{prefix}/{workspace_name}/{key}"
