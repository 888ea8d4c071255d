"""What every emulated resource type shares: where it is created, and how tags are written."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """Where a resource is created: a client factory for the instance's account and region."""

    client: Callable[[str], Any]           # service name -> boto3 client
    region: str
    account_id: str
    default_tags: Mapping[str, str]

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this account (and region, unless the service is global)."""
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id}:{resource}"


# A creator makes the live resource with boto3 and returns the state attributes provider v5 writes.
Creator = Callable[[Target, Mapping[str, Any]], dict[str, Any]]
# A mutation changes a live resource behind Terraform's back: (target, state attributes, parameters).
Mutation = Callable[[Target, Mapping[str, Any], Mapping[str, Any]], None]


def split_tags(target: Target, args: Mapping[str, Any]) -> tuple[dict[str, str] | None, dict[str, str]]:
    """(`tags` as configured or None, `tags_all` = provider default tags overlaid by `tags`)."""
    tags = {str(k): str(v) for k, v in args["tags"].items()} if args.get("tags") else None
    return tags, {**target.default_tags, **(tags or {})}


def tag_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """`{k: v}` -> `[{"Key": k, "Value": v}]` (or the service's own key names)."""
    return [{key: k, value: v} for k, v in tags.items()]


def tagged(state: dict[str, Any], tags: Mapping[str, str] | None, tags_all: Mapping[str, str]) -> dict[str, Any]:
    """The state attributes plus `tags` (null when not configured) and `tags_all`."""
    return {**state, "tags": dict(tags) if tags is not None else None, "tags_all": dict(tags_all)}


def block(value: Any) -> dict[str, Any]:
    """A nested block given in a template as a mapping or as Terraform's one-element list."""
    if isinstance(value, list):
        return dict(value[0]) if value else {}
    return dict(value or {})


def changes(params: Mapping[str, Any]) -> tuple[str, Any]:
    """The `attribute` and `value` of a `change_attribute` mutation."""
    try:
        return str(params["attribute"]), params["value"]
    except KeyError:
        raise ValueError("change_attribute needs `attribute` and `value`") from None
