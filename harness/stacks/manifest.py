"""Stack manifests and their imports: discovery, import resolution, and the merged import closure.

A file's closure is its imports' closures merged in import order, then the file's own content. It is
computed once per file (and template context) and shared by every manifest that imports the file, so
a catalog imported by 1,000 stacks is parsed once and merged once. Closures share structure with the
parsed files (see `merge.py`), so nothing here may mutate them.

Import rules (Atmos): an entry is a string or `{path, context, skip_if_missing}`; `./` and `../` are
relative to the importing file, anything else to `stacks.base_path`; without an extension `.yaml`,
`.yml`, `.yaml.tmpl`, `.yml.tmpl` are tried; globs expand in sorted order.
"""

from __future__ import annotations

import difflib
import glob
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.stacks.atmos_config import AtmosConfig
from harness.stacks.contributions import FileRole, role_of
from harness.stacks.merge import MergeTypeError, merge_layers
from harness.stacks.templates import TemplateMissingKey, render
from harness.stacks.yaml_loader import ManifestParser, ParsedFile, ParseIssue, line_of_key

STACK_EXTENSIONS = (".yaml", ".yml")
_IMPORT_EXTENSIONS = (".yaml", ".yml", ".yaml.tmpl", ".yml.tmpl")
_TEMPLATE_SUFFIXES = (".tmpl",)
_GLOB_CHARS = re.compile(r"[*?\[{]")
OVERRIDE_TYPES = ("terraform", "helmfile")


class ManifestError(Exception):
    """A manifest (or one of its imports) that cannot be used; carries file and line."""

    def __init__(self, message: str, file: str | Path, line: int | None = None,
                 hint: str | None = None, chain: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file)
        self.line = line
        self.hint = hint
        self.chain = chain          # import keys from the manifest that failed down to the broken file

    def via(self, key: str) -> ManifestError:
        """The same error as seen from a file that imports (transitively) the broken one."""
        return ManifestError(self.message, self.file, self.line, self.hint, (key, *self.chain))


# -- globs ----------------------------------------------------------------------------------------

def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [x for option in match.group(1).split(",") for x in _expand_braces(head + option + tail)]


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a doublestar glob (`**` crosses folders, `*` and `?` do not, `{a,b}`, `[..]`)."""
    alternatives = []
    for alt in _expand_braces(pattern):
        out, i = [], 0
        while i < len(alt):
            ch = alt[i]
            if alt.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
            elif alt.startswith("**", i):
                out.append(".*")
                i += 2
            elif ch == "*":
                out.append("[^/]*")
                i += 1
            elif ch == "?":
                out.append("[^/]")
                i += 1
            elif ch == "[":
                end = alt.find("]", i + 1)
                if end < 0:
                    out.append(re.escape(ch))
                    i += 1
                else:
                    body = alt[i + 1:end]
                    if body.startswith("!"):
                        body = "^" + body[1:]
                    out.append(f"[{body}]")
                    i = end + 1
            else:
                out.append(re.escape(ch))
                i += 1
        alternatives.append("".join(out))
    return re.compile("^(?:" + "|".join(alternatives) + ")$")


def glob_match(pattern: str, relative: str) -> bool:
    return bool(glob_regex(pattern).match(relative))


def _glob_files(pattern: str) -> list[str]:
    found: set[str] = set()
    for alt in _expand_braces(pattern):
        found.update(p for p in glob.glob(alt, recursive=True) if os.path.isfile(p))
    return sorted(found)


# -- discovery ------------------------------------------------------------------------------------

def stack_key(atmos: AtmosConfig, path: Path) -> str:
    """A manifest's key: its path under stacks.base_path without `.yaml`/`.yml` (Atmos's stack file name)."""
    try:
        rel = path.relative_to(atmos.stacks_base_path).as_posix()
    except ValueError:
        rel = path.as_posix()
    for ext in (".yaml", ".yml"):
        if rel.endswith(ext):
            return rel[: -len(ext)]
    return rel


def import_key(atmos: AtmosConfig, path: Path) -> str:
    """How Atmos lists an import: relative path without the last extension."""
    try:
        rel = path.relative_to(atmos.stacks_base_path).as_posix()
    except ValueError:
        rel = path.as_posix()
    return os.path.splitext(rel)[0]


def discover_stack_files(atmos: AtmosConfig) -> list[Path]:
    """Top-level manifests: included_paths minus excluded_paths, YAML files only, sorted."""
    base = atmos.stacks_base_path
    candidates: set[Path] = set()
    for pattern in atmos.included_paths:
        for match in _glob_files(str(base / pattern)):
            if match.endswith(STACK_EXTENSIONS):
                candidates.add(Path(match).resolve())
    result = []
    for path in candidates:
        rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else path.as_posix()
        if any(glob_match(pattern, rel) for pattern in atmos.excluded_paths):
            continue
        result.append(path)
    return sorted(result)


# -- the import graph -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportSpec:
    path: str
    context: Mapping[str, Any] = field(default_factory=dict)
    skip_if_missing: bool = False


@dataclass(eq=False)
class Node:
    """One file, parsed in one template context, with its imports resolved and its closure merged."""

    path: Path
    key: str
    data: dict[str, Any]
    children: tuple[Node, ...]
    groups: tuple[int, ...]                   # how many children each import entry matched (in order)
    config: dict[str, Any]                    # the merged closure (read-only)
    import_keys: frozenset[str]               # every import, transitively
    files: tuple[str, ...]                    # every file of the closure (absolute), merge order, unique
    has_markers: bool
    has_templates: bool
    has_overrides: bool
    warnings: tuple[ParseIssue, ...]          # parse warnings of every file of the closure
    parsed: ParsedFile
    role: FileRole                            # what this file's own content sets (see contributions.py)

    def walk(self) -> Iterable[Node]:
        """Every node of the closure, depth first, in merge order (post-order), repeats included."""
        for child in self.children:
            yield from child.walk()
        yield self


def _has_overrides(data: Mapping[str, Any]) -> bool:
    if data.get("overrides"):
        return True
    return any(isinstance(data.get(t), dict) and data[t].get("overrides") for t in OVERRIDE_TYPES)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


class ImportGraph:
    """Resolves imports and computes closures, each once (cache by file and template context)."""

    def __init__(self, atmos: AtmosConfig, parser: ManifestParser) -> None:
        self.atmos = atmos
        self.parser = parser
        self._nodes: dict[Any, Node | ManifestError] = {}
        self._in_progress: list[Path] = []

    def node(self, path: Path, context: Mapping[str, Any] | None = None) -> Node:
        """The resolved node of a file; `ManifestError` for the file itself or anything it imports."""
        context = context or {}
        key = (path, _freeze(context)) if context else path
        cached = self._nodes.get(key)
        if isinstance(cached, Node):
            return cached
        if isinstance(cached, ManifestError):
            raise cached
        if path in self._in_progress:
            chain = [*self._in_progress[self._in_progress.index(path):], path]
            raise ManifestError("import cycle: " + " -> ".join(import_key(self.atmos, p) for p in chain),
                                path, hint="remove one of the imports in the cycle")
        self._in_progress.append(path)
        try:
            node: Node | ManifestError = self._build(path, context)
        except ManifestError as exc:
            node = exc.via(import_key(self.atmos, path))
        finally:
            self._in_progress.pop()
        self._nodes[key] = node
        if isinstance(node, ManifestError):
            raise node
        return node

    def _parse(self, path: Path, context: Mapping[str, Any]) -> ParsedFile:
        if not (context or path.name.endswith(_TEMPLATE_SUFFIXES)):
            return self.parser.parse(path)

        def render_text(text: str) -> tuple[str, list[ParseIssue], bool]:
            try:
                rendered = render(text, context)
            except TemplateMissingKey as exc:
                return text, [ParseIssue(f"import context has no value for {exc.path}; the file is "
                                         "used as written", str(path), None, "warning")], False
            if not rendered.supported:
                return text, [ParseIssue("the file uses Go-template features beyond {{ .path }}; "
                                         "it is used as written", str(path), None, "warning")], True
            return rendered.text, [], False

        return self.parser.parse(path, render=render_text, context_key=_freeze(context))

    def _build(self, path: Path, context: Mapping[str, Any]) -> Node:
        parsed = self._parse(path, context)
        if parsed.error is not None:
            err = parsed.error
            message, hint = err.message, err.hint
            if parsed.template_unsupported:
                message += (" (the file is a Go template using features beyond {{ .path }}, so its text was "
                            "parsed unrendered)")
                hint = "use --stacks-source atmos for this repository, or simplify the template"
            raise ManifestError(message, err.file, err.line, hint)
        data = parsed.data or {}
        _validate_sections(parsed)
        children = []
        groups = []
        for spec in self._import_specs(parsed):
            merged_context = merge_layers([spec.context, context]) if (spec.context or context) else {}
            targets = self._resolve(spec, path)
            children.extend(self.node(target, merged_context) for target in targets)
            groups.append(len(targets))
        layers = [child.config for child in children]
        layers.append(data)
        try:
            config = merge_layers(layers, self.atmos.list_merge_strategy)
        except MergeTypeError as exc:
            raise ManifestError(f"{exc} while merging the imports of this manifest", path,
                                line_of_key(parsed.text, exc.path) if exc.path else None,
                                hint="make the value a list, or unset it first with !unset") from None
        import_keys: set[str] = set()
        files: dict[str, None] = {}
        warnings: dict[ParseIssue, None] = {}
        for child in children:
            import_keys.add(import_key(self.atmos, child.path))
            import_keys.update(child.import_keys)
            files.update(dict.fromkeys(child.files))
            warnings.update(dict.fromkeys(child.warnings))
        files[str(path)] = None
        warnings.update(dict.fromkeys(parsed.warnings))
        return Node(
            path=path, key=stack_key(self.atmos, path), data=data, children=tuple(children),
            groups=tuple(groups), config=config,
            import_keys=frozenset(import_keys), files=tuple(files), parsed=parsed,
            has_markers=parsed.has_markers or any(c.has_markers for c in children),
            has_templates=parsed.has_templates or any(c.has_templates for c in children),
            has_overrides=_has_overrides(data) or any(c.has_overrides for c in children),
            warnings=tuple(warnings),
            role=role_of(data, template_unsupported=parsed.template_unsupported),
        )

    def _import_specs(self, parsed: ParsedFile) -> list[ImportSpec]:
        data = parsed.data or {}
        raw = data.get("import")
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ManifestError("import must be a list of paths or {path, context, skip_if_missing} objects",
                                parsed.path, line_of_key(parsed.text, ("import",)))
        specs = []
        for index, entry in enumerate(raw):
            if isinstance(entry, str) and entry:
                spec = ImportSpec(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str) and entry["path"]:
                context = entry.get("context") or {}
                if not isinstance(context, dict):
                    raise ManifestError(f"import #{index + 1}: context must be a mapping", parsed.path,
                                        line_of_key(parsed.text, ("import",)))
                spec = ImportSpec(entry["path"], context, bool(entry.get("skip_if_missing", False)))
            else:
                raise ManifestError(f"import #{index + 1} is invalid: {entry!r} (expected a path or "
                                    "{path, context, skip_if_missing})", parsed.path,
                                    line_of_key(parsed.text, ("import",)))
            specs.append(spec)
        return specs

    def _resolve(self, spec: ImportSpec, importer: Path) -> list[Path]:
        """The files an import names, in sorted order; `ManifestError` when nothing matches."""
        raw = spec.path
        base = importer.parent if raw.startswith(("./", "../")) else self.atmos.stacks_base_path
        candidate = os.path.normpath(os.path.join(base, raw))
        name = os.path.basename(candidate)
        ext = os.path.splitext(name)[1]
        if not ext:
            for extension in _IMPORT_EXTENSIONS:
                if os.path.isfile(candidate + extension):
                    candidate += extension
                    break
            else:
                candidate += ".yaml"
        elif ext in STACK_EXTENSIONS and os.path.isfile(candidate + ".tmpl"):
            candidate += ".tmpl"
        if _GLOB_CHARS.search(candidate):
            matches = [Path(p).resolve() for p in _glob_files(candidate)]
        else:
            matches = [Path(candidate).resolve()] if os.path.isfile(candidate) else []
        if Path(candidate).resolve() == importer:
            raise ManifestError(f"the manifest imports itself ({raw!r})", importer,
                                self._import_line(importer, raw), hint="remove the import")
        if not matches:
            if spec.skip_if_missing or "{{" in raw:
                return []
            shown = os.path.relpath(candidate, self.atmos.root)
            raise ManifestError(f"import {raw!r}: no file matches {shown}",
                                importer, self._import_line(importer, raw),
                                hint="fix the path, or set skip_if_missing: true on the import")
        return matches

    def _import_line(self, importer: Path, raw: str) -> int | None:
        text = self.parser.parse(importer).text
        for number, line in enumerate(text.splitlines(), start=1):
            if raw in line:
                return number
        return None


# -- validation -----------------------------------------------------------------------------------

_MAPPING_SECTIONS = ("vars", "settings", "env", "overrides", "terraform", "helmfile", "packer", "components",
                     "dependencies", "hooks", "providers", "backend", "remote_state_backend")
KNOWN_COMPONENT_TYPES = ("terraform", "helmfile", "packer", "ansible", "kubernetes", "helm")


def _validate_sections(parsed: ParsedFile) -> None:
    """Top-level sections of the wrong type make the manifest unusable (Atmos refuses them too)."""
    data = parsed.data or {}
    for key in _MAPPING_SECTIONS:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            raise ManifestError(f"{key}: must be a mapping, not a {type(value).__name__}", parsed.path,
                                line_of_key(parsed.text, (key,)), hint=f"write {key}: as key: value pairs")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise ManifestError("name: must be a string (the stack name)", parsed.path,
                            line_of_key(parsed.text, ("name",)))
    components = data.get("components") or {}
    for kind, section in components.items():
        if kind not in KNOWN_COMPONENT_TYPES:
            close = difflib.get_close_matches(str(kind), KNOWN_COMPONENT_TYPES, n=1)
            raise ManifestError(f"components.{kind}: unknown component type", parsed.path,
                                line_of_key(parsed.text, ("components", kind)),
                                hint=f"did you mean {close[0]!r}?" if close else
                                f"use one of {', '.join(KNOWN_COMPONENT_TYPES)}")
        if section is not None and not isinstance(section, dict):
            raise ManifestError(f"components.{kind}: must be a mapping of component names", parsed.path,
                                line_of_key(parsed.text, ("components", kind)))


# -- overrides ------------------------------------------------------------------------------------

def _overrides_of(data: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    own = data.get("overrides")
    section = data.get(kind)
    typed = section.get("overrides") if isinstance(section, dict) else None
    layers = [x for x in (own, typed) if isinstance(x, dict) and x]
    return merge_layers(layers) if layers else {}


def component_overrides(root: Node, kind: str, strategy: str) -> dict[str, Any]:
    """The `overrides` section per component of one type, computed as Atmos does.

    Walking the import tree depth first: a file's own overrides are merged under its importers'
    (the importing file wins); overrides collected from imports processed earlier also apply to later
    imports and to the importing file; each file's result is attached to the components that file
    defines, and those per-file results deep-merge in merge order. Example: `stack.yaml` with
    `terraform.overrides.vars.x: 1` importing `catalog/vpc.yaml` gives `vpc` `overrides.vars.x = 1`,
    but `vpc` in another stack that imports the same catalog is untouched.
    """
    per_component: dict[str, list[Mapping[str, Any]]] = {}

    def visit(node: Node, parent_inline: Mapping[str, Any],
              parent_imports: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        inline = merge_layers([_overrides_of(node.data, kind), parent_inline], strategy)
        imports = parent_imports
        start = 0
        for size in node.groups:
            # the files one import entry matches (a glob) all start from the same collected overrides
            results = [visit(child, inline, imports) for child in node.children[start:start + size]]
            start += size
            for child_inline, child_imports in results:
                imports = merge_layers([imports, child_imports, child_inline], strategy)
        final = merge_layers([imports, inline], strategy)
        components = node.data.get("components")
        typed = components.get(kind) if isinstance(components, dict) else None
        if isinstance(typed, dict):
            for name, section in typed.items():
                if not isinstance(section, dict):
                    continue
                own = final or section.get("overrides")
                if isinstance(own, dict) and own:
                    per_component.setdefault(name, []).append(own)
        return inline, imports

    visit(root, {}, {})
    return {name: merge_layers(layers, strategy) for name, layers in per_component.items()}
