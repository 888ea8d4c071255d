"""Read Terraform v4 states from the S3 backend into `TerraformState`, registering secrets on the way."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from harness.errors import StateError
from harness.log import Redactor
from harness.state.model import ResourceInstance, SensitivePath, TerraformState, format_index

SUPPORTED_VERSION = 4


def parse_state(data: bytes | str, *, source: str, redactor: Redactor | None = None) -> TerraformState:
    """Parse state bytes; sensitive outputs and attributes are registered with `redactor` at once."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise StateError("state is not UTF-8 text", where=source,
                             hint="restore a previous version of the state object") from None
    if not data.strip():
        raise StateError("state is empty", where=source,
                         hint="restore a previous version of the state object")
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as exc:
        raise StateError(f"state is not valid JSON ({exc.msg} at line {exc.lineno})", where=source,
                         hint="the object may be truncated; restore a previous version") from None
    if not isinstance(raw, dict):
        raise StateError("state is not a JSON object", where=source)
    version = raw.get("version")
    if version != SUPPORTED_VERSION:
        raise StateError(f"unsupported state version {version!r} (only version {SUPPORTED_VERSION} is read)",
                         where=source, hint="upgrade it with a Terraform >= 0.12 `terraform apply`")
    outputs = raw.get("outputs") or {}
    if redactor is not None:
        for output in outputs.values():
            if isinstance(output, dict) and output.get("sensitive"):
                redactor.register(output.get("value"))
    resources = tuple(_resource_instances(raw.get("resources") or [], source, redactor))
    try:
        return TerraformState(version=version, terraform_version=str(raw.get("terraform_version", "")),
                              serial=int(raw.get("serial", 0)), lineage=str(raw.get("lineage", "")),
                              outputs=outputs, resources=resources, source=source)
    except (TypeError, ValueError) as exc:
        raise StateError(f"state header is malformed: {exc}", where=source) from None


def _resource_instances(resources: list[Any], source: str,
                        redactor: Redactor | None) -> Iterable[ResourceInstance]:
    for resource in resources:
        if not isinstance(resource, dict) or "type" not in resource or "name" not in resource:
            raise StateError("state has a resource without type or name", where=source)
        mode = resource.get("mode", "managed")
        module = resource.get("module")
        base = f"{resource['type']}.{resource['name']}"
        if mode == "data":
            base = f"data.{base}"
        if module:
            base = f"{module}.{base}"
        for instance in resource.get("instances") or []:
            key = instance.get("index_key")
            attributes = instance.get("attributes") or {}
            sensitive = tuple(_sensitive_paths(instance.get("sensitive_attributes") or []))
            if redactor is not None:
                for path in sensitive:
                    redactor.register(value_at(attributes, path))
            yield ResourceInstance(
                address=base + (format_index(key) if key is not None else ""),
                mode=mode, type=resource["type"], name=resource["name"],
                provider=str(resource.get("provider", "")), attributes=attributes, module=module,
                index_key=key, schema_version=int(instance.get("schema_version", 0)),
                sensitive_paths=sensitive, dependencies=tuple(instance.get("dependencies") or ()),
            )


def _sensitive_paths(entries: list[Any]) -> Iterable[SensitivePath]:
    """State paths are lists of steps: `{"type": "get_attr", "value": "password"}` or an index step."""
    for entry in entries:
        if not isinstance(entry, list):
            continue
        path: list[str | int] = []
        for step in entry:
            value = step.get("value") if isinstance(step, dict) else None
            if isinstance(value, dict):  # index steps wrap the key: {"value": "k", "type": "string"}
                value = value.get("value")
            if isinstance(value, str | int):
                path.append(value)
        if path:
            yield tuple(path)


def value_at(data: Any, path: SensitivePath) -> Any:
    """The value at a path of keys and indices, or None when the path does not exist."""
    for step in path:
        in_dict = isinstance(data, dict) and step in data
        in_list = isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data)
        if in_dict or in_list:
            data = data[step]
        else:
            return None
    return data


def read_state(s3: Any, bucket: str, key: str, *, redactor: Redactor | None = None) -> TerraformState:
    """Fetch `s3://bucket/key` and parse it; a missing object is a `StateError` naming it."""
    source = f"s3://{bucket}/{key}"
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            raise StateError("no state at this key", where=source,
                             hint="apply the component first, or check the backend settings") from None
        if code == "NoSuchBucket":
            raise StateError(f"state bucket {bucket!r} does not exist", where=source,
                             hint="check backend.s3.bucket in the stack configuration") from None
        raise StateError(f"cannot read state: {code or exc}", where=source,
                         hint="check the credentials and the bucket policy") from None
    return parse_state(body, source=source, redactor=redactor)
