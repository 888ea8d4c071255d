"""Read Terraform v4 states from the S3 backend into `TerraformState`, registering secrets on the way."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from harness.errors import StateError
from harness.log import Redactor
from harness.state.layout import DEFAULT_WORKSPACE, DEFAULT_WORKSPACE_KEY_PREFIX
from harness.state.model import ResourceInstance, SensitivePath, TerraformState, format_index

SUPPORTED_VERSION = 4


class MissingStateError(StateError):
    """No state object at the key (or no bucket): the instance was never applied, or the backend is wrong."""


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
    if not isinstance(outputs, dict):
        raise StateError("state outputs are not a JSON object", where=source)
    if redactor is not None:
        for output in outputs.values():
            if isinstance(output, dict) and output.get("sensitive"):
                redactor.register(output.get("value"))
    resources = raw.get("resources") or []
    if not isinstance(resources, list):
        raise StateError("state resources are not a JSON list", where=source)
    try:
        return TerraformState(version=version, terraform_version=str(raw.get("terraform_version", "")),
                              serial=_serial(raw.get("serial", 0)), lineage=str(raw.get("lineage", "")),
                              outputs=outputs, source=source,
                              resources=tuple(_resource_instances(resources, source, redactor)))
    except (TypeError, ValueError, AttributeError) as exc:
        raise StateError(f"state is malformed: {exc}", where=source) from None


def _serial(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"serial {value!r} is not a whole number")
    return value


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
            if not isinstance(instance, dict):
                raise StateError(f"resource {base} has an instance that is not a JSON object", where=source)
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


@dataclass(frozen=True)
class StateObject:
    """The raw bytes of a state object and the S3 metadata of that exact read."""

    bucket: str
    key: str
    body: bytes
    etag: str | None = None
    version_id: str | None = None
    last_modified: datetime | None = None

    @property
    def source(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def fetch_state_object(s3: Any, bucket: str, key: str, *, version_id: str | None = None) -> StateObject:
    """Fetch a state object's bytes; a missing object or bucket is a `StateError` naming it."""
    source = f"s3://{bucket}/{key}"
    extra = {"VersionId": version_id} if version_id else {}
    try:
        response = s3.get_object(Bucket=bucket, Key=key, **extra)
        body = response["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound", "NoSuchVersion"):
            raise MissingStateError("no state at this key", where=source,
                                    hint="apply the component first, or check the backend settings") from None
        if code == "NoSuchBucket":
            raise MissingStateError(f"state bucket {bucket!r} does not exist", where=source,
                                    hint="check backend.s3.bucket in the stack configuration") from None
        raise StateError(f"cannot read state: {code or exc}", where=source,
                         hint="check the credentials and the bucket policy") from None
    return StateObject(bucket=bucket, key=key, body=body, etag=response.get("ETag"),
                       version_id=response.get("VersionId"), last_modified=response.get("LastModified"))


def read_state(s3: Any, bucket: str, key: str, *, redactor: Redactor | None = None) -> TerraformState:
    """Fetch `s3://bucket/key` and parse it; a missing object is a `StateError` naming it."""
    state = fetch_state_object(s3, bucket, key)
    return parse_state(state.body, source=state.source, redactor=redactor)


def list_workspaces(s3: Any, bucket: str, key: str, *,
                    workspace_key_prefix: str = DEFAULT_WORKSPACE_KEY_PREFIX) -> dict[str, str]:
    """Workspaces with a state in the bucket, as `{workspace: state object key}` (sorted by name).

    As Terraform's `workspace list` does: `default` is the object at `key`; every other workspace is
    an object at `<workspace_key_prefix>/<name>/<key>` (names never contain `/`).
    """
    found: dict[str, str] = {}
    prefix = f"{workspace_key_prefix}/"
    try:
        if _exists(s3, bucket, key):
            found[DEFAULT_WORKSPACE] = key
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                name, sep, rest = entry["Key"][len(prefix):].partition("/")
                if sep and name and rest == key and name != DEFAULT_WORKSPACE:
                    found[name] = entry["Key"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise StateError(f"cannot list workspaces: {code or exc}", where=f"s3://{bucket}/{prefix}",
                         hint="check the bucket name and the credentials") from None
    return dict(sorted(found.items()))


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") in ("NoSuchKey", "404", "NotFound"):
            return False
        raise
    return True
