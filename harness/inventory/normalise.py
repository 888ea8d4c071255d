"""Normalisers shared by resource type declarations: live API shapes -> provider v5 state shapes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def tags_from_list(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """`[{"Key": k, "Value": v}]` (EC2, S3, IAM, ...) -> `{k: v}`, as `tags_all` stores them."""
    return {t["Key"]: t.get("Value", "") for t in tags or ()}


def tags_map(tags: Mapping[str, str] | None) -> dict[str, str]:
    """A state's `tags`/`tags_all` (null when unset) -> a plain dict."""
    return dict(tags or {})


def sorted_strings(values: Iterable[Any] | None) -> list[str]:
    """An order-free list of strings (set attributes) in a canonical order."""
    return sorted(str(v) for v in values or ())


def canonical(value: Any) -> str:
    """A stable text form of a JSON-like value, used to compare and sort set elements."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def json_document(value: Any) -> Any:
    """A policy document (string or already parsed) -> parsed JSON; None stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def empty_to_none(value: Any) -> Any:
    """The provider stores unset strings as "" and the API omits them: compare both as None."""
    return None if value in ("", None) else value
