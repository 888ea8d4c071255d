"""Normalisers shared by resource type declarations: live API shapes -> provider v5 state shapes.

The state side is what the AWS provider v5 writes; each function here moves a live API value (or a
state value that may be written in more than one equivalent way) to that one form, so that a
resource nobody touched compares equal. Example: SQS answers `"VisibilityTimeout": "30"` (a string)
where the state holds `visibility_timeout_seconds: 30`; `to_int("30") == to_int(30) == 30`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

AWS_RESERVED_TAG_PREFIX = "aws:"


def tags_from_list(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    """`[{"Key": k, "Value": v}]` (EC2, S3, IAM, ...) -> `{k: v}`, as `tags_all` stores them.

    Keys starting with `aws:` are set by AWS itself; the provider ignores them, and so do we.
    """
    return provider_tags({t["Key"]: t.get("Value", "") for t in tags or ()})


def provider_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """A tag map without AWS's reserved `aws:` keys (the provider never manages them)."""
    return {k: v for k, v in (tags or {}).items() if not k.startswith(AWS_RESERVED_TAG_PREFIX)}


def tags_map(tags: Mapping[str, str] | None) -> dict[str, str]:
    """A state's `tags`/`tags_all` (null when unset) -> a plain dict."""
    return dict(tags or {})


def sorted_strings(values: Iterable[Any] | None) -> list[str]:
    """An order-free list of strings (set attributes) in a canonical order."""
    return sorted(str(v) for v in values or ())


def canonical(value: Any) -> str:
    """A stable text form of a JSON-like value, used to compare and sort set elements."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def canonical_set(values: Iterable[Any] | None) -> list[Any]:
    """Set elements (dicts, strings, ...) in a canonical order, duplicates dropped."""
    unique = {canonical(v): v for v in values or ()}
    return [unique[k] for k in sorted(unique)]


def json_document(value: Any) -> Any:
    """A policy document (JSON text, URL-encoded JSON as IAM sends it, or already parsed) -> parsed.

    None and "" (the provider's "no policy") become None, so both sides of "no document" agree.
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        return value
    for text in (value, urllib.parse.unquote(value)):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            continue
    return value


def empty_to_none(value: Any) -> Any:
    """The provider stores unset strings as "" and the API omits them: compare both as None."""
    return None if value in ("", None) else value


def to_int(value: Any) -> int | None:
    """Numbers the API sends as strings (SQS, SNS attributes) -> int; None and "" stay None."""
    if value in (None, ""):
        return None
    return int(value)


def to_bool(value: Any) -> bool:
    """`"true"`/`"false"` strings (SQS, SNS attributes), None (absent: false) and bools -> bool."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def first(values: Iterable[Any] | None) -> Any:
    """The first element of a list, or None (the provider's one-element blocks)."""
    for value in values or ():
        return value
    return None


def name_tag(item: Mapping[str, Any]) -> str | None:
    """The `Name` tag of an EC2-style item (`Tags: [{"Key", "Value"}]`)."""
    return next((t.get("Value") for t in item.get("Tags") or () if t.get("Key") == "Name"), None)


def last_segment(value: str | None, separator: str = "/") -> str | None:
    """`arn:aws:sns:...:topic` -> `topic` (with ":"), `.../queue-name` -> `queue-name` (with "/")."""
    return value.rsplit(separator, 1)[-1] if value else None
