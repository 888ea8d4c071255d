"""The Go-template subset Atmos users rely on for names and cross-references.

Supported: actions that are a dotted path into the data, `{{ .vars.stage }}`,
`{{- .settings.a.b -}}`, with literal text around them. A string with any other action (pipes,
functions, Sprig/Gomplate, raw strings, `if`/`range`) is left exactly as written and the caller reports
it once as a warning. A path that does not exist is an error, as with Atmos (`missingkey=error`).
Values print the way Go's `fmt` prints them: `true`, `3`, `map[a:1]`, `[a b]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)
_PATH = re.compile(r"^\s*((?:\.[A-Za-z_][A-Za-z0-9_-]*)+|\.)\s*$")


class TemplateMissingKey(KeyError):
    """A dotted path that points at nothing."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path

    def __str__(self) -> str:
        return f"template value {self.path} does not exist"


@dataclass(frozen=True)
class Rendered:
    text: str
    supported: bool          # False: left as written (an action beyond the subset)


def has_template(text: str) -> bool:
    return "{{" in text


def lookup(data: Any, dotted: str) -> Any:
    """The value at `.a.b.c` in nested mappings; `TemplateMissingKey` when absent."""
    value = data
    if dotted == ".":
        return value
    for part in dotted[1:].split("."):
        if not isinstance(value, dict) or part not in value:
            raise TemplateMissingKey(dotted)
        value = value[part]
    return value


def go_format(value: Any) -> str:
    """A value as Go's `fmt.Sprint` shows it in a template."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e21 else repr(value)
    if isinstance(value, dict):
        items = " ".join(f"{k}:{go_format(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
        return f"map[{items}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    return str(value)


def render(text: str, data: Mapping[str, Any]) -> Rendered:
    """Render the subset; `TemplateMissingKey` when a path is missing."""
    if "{{" not in text:
        return Rendered(text, True)
    pieces: list[str] = []
    last = 0
    for match in _ACTION.finditer(text):
        path = _PATH.match(match.group(2))
        if not path:
            return Rendered(text, False)
        before = text[last:match.start()]
        if match.group(1):
            before = before.rstrip()
        pieces.append(before)
        pieces.append(go_format(lookup(data, path.group(1))))
        last = match.end()
        if match.group(3):
            rest = text[last:]
            last += len(rest) - len(rest.lstrip())
    tail = text[last:]
    if "{{" in tail:
        return Rendered(text, False)
    pieces.append(tail)
    return Rendered("".join(pieces), True)


class SectionRenderer:
    """Renders every string of a component section against the section itself.

    Subtrees without templates are shared, not copied. `unsupported` collects the template strings
    left as written; `missing` collects (string, path) pairs that referenced a missing value.
    """

    def __init__(self, data: Mapping[str, Any], memo: dict[int, tuple[bool, Any]] | None = None) -> None:
        self.data = data
        self.memo = {} if memo is None else memo
        self.unsupported: list[str] = []
        self.missing: list[tuple[str, str]] = []

    def value(self, value: Any) -> Any:
        """`value` with its templates rendered; unchanged subtrees are returned as they are."""
        if isinstance(value, str):
            return self._string(value) if "{{" in value else value
        if isinstance(value, dict):
            if not contains_template(value, self.memo):
                return value
            changed: dict[Any, Any] | None = None
            for key, item in value.items():
                if isinstance(item, str):
                    if "{{" not in item:
                        continue
                    new = self._string(item)
                elif isinstance(item, dict | list):
                    new = self.value(item)
                else:
                    continue
                if new is not item:
                    if changed is None:
                        changed = dict(value)
                    changed[key] = new
            return value if changed is None else changed
        if isinstance(value, list):
            if not contains_template(value, self.memo):
                return value
            items = [self.value(item) for item in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                return items
        return value

    def _string(self, value: str) -> str:
        try:
            rendered = render(value, self.data)
        except TemplateMissingKey as exc:
            self.missing.append((value, exc.path))
            return value
        if not rendered.supported:
            self.unsupported.append(value)
            return value
        return type(value)(rendered.text) if type(value) is not str else rendered.text


def contains_template(value: Any, memo: dict[int, tuple[bool, Any]]) -> bool:
    """True when a string inside `value` holds `{{`; memoised per shared subtree (keeps a reference)."""
    if isinstance(value, str):
        return "{{" in value
    if not isinstance(value, dict | list):
        return False
    key = id(value)
    hit = memo.get(key)
    if hit is not None and hit[1] is value:
        return hit[0]
    result = False
    for item in (value.values() if isinstance(value, dict) else value):
        if isinstance(item, str):
            if "{{" in item:
                result = True
                break
        elif isinstance(item, dict | list) and contains_template(item, memo):
            result = True
            break
    memo[key] = (result, value)
    return result
