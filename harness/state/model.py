"""Typed Terraform state (format version 4) as the S3 backend stores it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SensitivePath = tuple[str | int, ...]


def format_index(key: str | int) -> str:
    """`[0]` for a count index, `["k"]` for a for_each key (as Terraform prints addresses)."""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


@dataclass(frozen=True)
class ResourceInstance:
    """One instance of a resource in a state, e.g. `module.net.aws_subnet.this["a"]`."""

    address: str
    mode: str                              # "managed" or "data"
    type: str
    name: str
    provider: str
    attributes: Mapping[str, Any]
    module: str | None = None
    index_key: str | int | None = None
    schema_version: int = 0
    sensitive_paths: tuple[SensitivePath, ...] = ()
    dependencies: tuple[str, ...] = ()

    @property
    def managed(self) -> bool:
        return self.mode == "managed"

    @property
    def resource_id(self) -> str | None:
        """The `id` attribute Terraform stores (what the provider uses to read the resource)."""
        value = self.attributes.get("id")
        return str(value) if value is not None else None


@dataclass(frozen=True)
class TerraformState:
    """A parsed state file: header fields, outputs and every resource instance."""

    version: int
    terraform_version: str
    serial: int
    lineage: str
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    resources: tuple[ResourceInstance, ...] = ()
    source: str = ""                       # where it was read from (s3://bucket/key or a path)

    @property
    def managed_resources(self) -> tuple[ResourceInstance, ...]:
        """Managed resource instances (data sources are not managed: drift skips them)."""
        return tuple(r for r in self.resources if r.managed)

    def resource(self, address: str) -> ResourceInstance | None:
        """The resource instance at an address, or None."""
        return next((r for r in self.resources if r.address == address), None)
