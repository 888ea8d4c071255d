"""Plain YAML scalars resolved the way Atmos (go-yaml v3 into `interface{}`) resolves them.

PyYAML follows YAML 1.1; go-yaml v3 mostly YAML 1.2:

- booleans are only `true`/`True`/`TRUE`/`false`/`False`/`FALSE`; `on`, `off`, `yes`, `no`, `y`, `n`
  are strings;
- null is `~`, `null`/`Null`/`NULL` or nothing;
- integers are Go's `strconv.ParseInt(s, 0, 64)` with every `_` removed: `0x1F`, `0o17`, `0b101` and
  the YAML 1.1 octal `010` (= 8); up to 2**64-1 unsigned;
- floats: `1.5`, `1e3`, `.5`, `.inf`/`-.inf`/`.nan` (three spellings each); no sexagesimal (`12:30`
  is a string);
- timestamps (`2024-01-01`) stay strings (go-yaml keeps them as text in an `interface{}`).

`GoScalarLoader` is the C-accelerated safe loader with these rules; quoted scalars are always strings.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

_CSafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

NUMBER_TAG = "tag:stackharness,2026:go-number"
_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")  # go-yaml yamlStyleFloat
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")
_BASES = {"x": 16, "o": 8, "b": 2}


def go_number(text: str) -> int | float | str:
    """A plain scalar starting with a digit, `+`, `-` or `.` as go-yaml v3 decodes it (else the text)."""
    if text.startswith("."):
        return float(text) if _DOT_FLOAT.match(text) else text
    plain = text.replace("_", "")
    found = _INT.match(plain)
    if found:
        sign, body = found.groups()
        if len(body) > 1 and body[1].lower() in _BASES:
            value = int(body[2:], _BASES[body[1].lower()])
        else:
            value = int(body, 8 if len(body) > 1 else 10) if body[0] == "0" else int(body)
        value = -value if sign == "-" else value
        if -(2**63) <= value < 2**63 or (not sign and value < 2**64):
            return value
    if _FLOAT.match(plain):
        number = float(plain)
        if not math.isinf(number):          # Go's ParseFloat fails on overflow: the text stays a string
            return number
    return text


def _construct_number(loader: Any, node: yaml.ScalarNode) -> int | float | str:
    return go_number(loader.construct_scalar(node))


def _implicit_resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    rules = [
        ("tag:yaml.org,2002:bool", re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z"), "tTfF"),
        ("tag:yaml.org,2002:null", re.compile(r"(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:float", re.compile(r"(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"), ".+-"),
        ("tag:yaml.org,2002:merge", re.compile(r"<<\Z"), "<"),
        (NUMBER_TAG, re.compile(r"[-+0-9.]"), "-+.0123456789"),   # go_number decides (or keeps the text)
    ]
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for tag, pattern, first in rules:
        for char in first:
            table.setdefault(char, []).append((tag, pattern))
    return table


class GoScalarLoader(_CSafeLoader):  # type: ignore[misc, valid-type]
    """The C safe loader with go-yaml v3 plain-scalar resolution (see the module docstring)."""

    yaml_implicit_resolvers = _implicit_resolvers()


GoScalarLoader.add_constructor(NUMBER_TAG, _construct_number)
