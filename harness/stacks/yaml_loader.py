"""Parse stack manifests once: the C YAML parser, Atmos YAML functions, errors with file:line.

YAML functions handled while parsing:

- `!include PATH` reads a local YAML, JSON or `.tfvars` file (relative to the manifest, then to the
  stacks base path) and puts its value in place.
- `!env NAME [default]` is the environment variable, else the default, else "".
- `!append [..]` marks a list that is appended to the inherited list whatever the merge strategy.
- `!unset` removes the key from everything merged so far.
- Any other tag (`!terraform.output`, `!store`, `!exec`, ...) is never executed: the value becomes an
  `Unresolved` string (`"!terraform.output vpc vpc_id"`, as Atmos prints it before evaluating) and a
  warning with the file and line is recorded.

Parsed data is shared by every stack that imports the file, so it is never mutated after parsing.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import yaml_problem
from harness.stacks.tfvars import TfvarsError, parse_tfvars
from harness.stacks.yaml_scalars import GoScalarLoader

_BaseLoader: type = GoScalarLoader


class Unresolved(str):
    """A YAML function that is not evaluated here; its text is kept as Atmos shows it unevaluated."""

    __slots__ = ()

    @property
    def function(self) -> str:
        return self.split(" ", 1)[0]


class AppendList(list):
    """A list tagged `!append`: appended to the inherited list instead of replacing it."""


class _Unset:
    """The `!unset` marker: the key is removed from the merged result."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "!unset"


UNSET = _Unset()


@dataclass(frozen=True)
class ParseIssue:
    """Something found while parsing one file (an error makes the file unusable)."""

    message: str
    file: str
    line: int | None = None
    severity: str = "error"
    hint: str | None = None


@dataclass
class ParsedFile:
    """One parsed manifest: its data (a mapping) or the error that made it unusable."""

    path: Path
    data: dict[str, Any] | None
    error: ParseIssue | None = None
    warnings: tuple[ParseIssue, ...] = ()
    has_markers: bool = False          # contains !unset / !append (merges must strip them)
    has_templates: bool = False        # contains "{{" somewhere (sections may need rendering)
    template_unsupported: bool = False  # a templated import whose template could not be rendered
    text: str = field(default="", repr=False)


class _StackLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The C loader plus Atmos YAML functions; per-file state lives on the instance."""

    manifest: Path
    include_roots: tuple[Path, ...]
    includer: Any
    markers: bool
    templates: bool                  # an included file holds "{{"
    issues: list[ParseIssue]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar_text(loader: _StackLoader, node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(loader.construct_scalar(node))
    return ""


def _construct_env(loader: _StackLoader, node: yaml.Node) -> str:
    text = _scalar_text(loader, node).strip()
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = text.split()
    if not parts or len(parts) > 2:
        loader.issues.append(ParseIssue(f"!env takes a variable name and an optional default, got {text!r}",
                                        str(loader.manifest), _line(node), "warning"))
        return ""
    value = os.environ.get(parts[0])
    if value is not None:
        return value
    return parts[1] if len(parts) == 2 else ""


def _construct_append(loader: _StackLoader, node: yaml.Node) -> Any:
    if not isinstance(node, yaml.SequenceNode):
        loader.issues.append(ParseIssue("!append applies to a list; the value is used as written",
                                        str(loader.manifest), _line(node), "warning"))
        return _construct_plain(loader, node)
    loader.markers = True
    return AppendList(loader.construct_sequence(node, deep=True))


def _construct_unset(loader: _StackLoader, node: yaml.Node) -> _Unset:
    loader.markers = True
    return UNSET


def _construct_plain(loader: _StackLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


def _construct_include(loader: _StackLoader, node: yaml.Node) -> Any:
    text = _scalar_text(loader, node).strip()
    parts = text.split()
    if len(parts) != 1:
        loader.issues.append(ParseIssue(
            f"!include {text!r}: only a single local file is supported (no query, no remote URL); "
            "kept unresolved", str(loader.manifest), _line(node), "warning"))
        return Unresolved(f"!include {text}")
    value, templated = loader.includer(parts[0], loader.manifest, _line(node), loader.issues)
    loader.templates = loader.templates or templated
    return value


def _construct_other(loader: _StackLoader, suffix: str, node: yaml.Node) -> Unresolved:
    tag = "!" + suffix
    args = _scalar_text(loader, node).strip()
    value = Unresolved(f"{tag} {args}".rstrip())
    loader.issues.append(ParseIssue(
        f"YAML function {tag} is not evaluated by stackharness; the value is kept as {value!r}",
        str(loader.manifest), _line(node), "warning"))
    return value


_StackLoader.add_constructor("!env", _construct_env)
_StackLoader.add_constructor("!append", _construct_append)
_StackLoader.add_constructor("!unset", _construct_unset)
_StackLoader.add_constructor("!include", _construct_include)
_StackLoader.add_multi_constructor("!", _construct_other)


class ManifestParser:
    """Reads and parses files, each once: a cache keyed by path (and template context)."""

    def __init__(self, include_roots: tuple[Path, ...] = ()) -> None:
        self._cache: dict[Any, ParsedFile] = {}
        self._includes: dict[Path, tuple[Any, ParseIssue | None, bool]] = {}
        self._include_roots = include_roots
        self.files_read = 0

    def parse(self, path: Path, *, render: Any = None, context_key: Any = None) -> ParsedFile:
        """The parsed file; `render(text) -> text` pre-processes templated imports (cached per context)."""
        key = (path, context_key) if render is not None else path
        cached = self._cache.get(key)
        if cached is None:
            cached = self._parse_uncached(path, render)
            self._cache[key] = cached
        return cached

    def _read(self, path: Path) -> tuple[str | None, ParseIssue | None]:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None, ParseIssue("file not found", str(path), hint="check the import path")
        except OSError as exc:
            return None, ParseIssue(f"cannot read the file: {exc.strerror}", str(path))
        self.files_read += 1
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            return None, ParseIssue(f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                                    str(path), line, hint="save the file as UTF-8")

    def _parse_uncached(self, path: Path, render: Any) -> ParsedFile:
        text, issue = self._read(path)
        if text is None:
            return ParsedFile(path, None, issue)
        unsupported = False
        if render is not None:
            text, render_issues, unsupported = render(text)
        else:
            render_issues = []
        loader = _StackLoader(text)
        loader.manifest = path
        loader.includer = self._include
        loader.markers = False
        loader.templates = False
        loader.issues = list(render_issues)
        try:
            data = loader.get_single_data()
        except yaml.YAMLError as exc:
            what, line = yaml_problem(exc)
            return ParsedFile(path, None, ParseIssue(what, str(path), line, hint="fix the YAML syntax"), text=text,
                              template_unsupported=unsupported)
        finally:
            loader.dispose()
        warnings = tuple(i for i in loader.issues if i.severity != "error")
        errors = [i for i in loader.issues if i.severity == "error"]
        if errors:
            return ParsedFile(path, None, errors[0], warnings, text=text)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return ParsedFile(path, None, ParseIssue(
                f"a stack manifest must be a mapping, not a {_yaml_type(data)}", str(path), 1,
                hint="put the settings under keys such as import:, vars:, components:"), warnings, text=text)
        return ParsedFile(path, data, None, warnings, has_markers=loader.markers,
                          has_templates="{{" in text or loader.templates, text=text)

    # -- !include ------------------------------------------------------------------------------
    def _include(self, target: str, manifest: Path, line: int,
                 issues: list[ParseIssue]) -> tuple[Any, bool]:
        """The included value and whether its text holds a template; each file is read once."""
        path = self._include_path(target, manifest)
        if path is None:
            issues.append(ParseIssue(f"!include {target}: file not found (looked next to the manifest "
                                     "and under the stacks base path)", str(manifest), line,
                                     hint="fix the path or create the file"))
            return None, False
        cached = self._includes.get(path)
        if cached is None:
            cached = self._load_include(path)
            self._includes[path] = cached
        value, issue, templated = cached
        if issue is not None:
            issues.append(ParseIssue(f"!include {target}: {issue.message}", issue.file, issue.line,
                                     hint=issue.hint))
        return value, templated

    def _include_path(self, target: str, manifest: Path) -> Path | None:
        candidate = Path(os.path.expanduser(target))
        if candidate.is_absolute():
            return candidate if candidate.is_file() else None
        for root in (manifest.parent, *self._include_roots):
            path = (root / candidate).resolve()
            if path.is_file():
                return path
        return None

    def _load_include(self, path: Path) -> tuple[Any, ParseIssue | None, bool]:
        text, issue = self._read(path)
        if text is None:
            return None, issue, False
        suffix = path.suffix.lower()
        templated = "{{" in text
        try:
            if suffix == ".json":
                return json.loads(text), None, templated
            if suffix in (".tfvars", ".hcl"):
                return parse_tfvars(text), None, templated
            return yaml.load(text, Loader=_BaseLoader), None, templated
        except json.JSONDecodeError as exc:
            return None, ParseIssue(f"invalid JSON: {exc.msg}", str(path), exc.lineno), False
        except TfvarsError as exc:
            return None, ParseIssue(f"invalid tfvars: {exc.message}", str(path), exc.line), False
        except yaml.YAMLError as exc:
            what, line = yaml_problem(exc)
            return None, ParseIssue(what, str(path), line), False


def _yaml_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def line_of_key(text: str, path: tuple[Any, ...]) -> int | None:
    """The line of a key path (`("components", "terraform", "vpc")`) in YAML text, found lazily.

    Only called when reporting a problem, so the hot path never pays for line tracking.
    """
    try:
        node = yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return None
    line = 1
    for key in path:
        if not isinstance(node, yaml.MappingNode):
            return line
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                line = _line(key_node)
                node = value_node
                break
        else:
            return line
    return line
