"""Hand-built component instances and backend contents for the state tests."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from harness.stacks.model import ComponentInstance
from harness.state.layout import digest_item_id, lock_item_id, lockfile_key, state_object_key

BUCKET = "tfstate"
TABLE = "tf-locks"
REGION = "us-east-1"


def make_instance(component: str, stack: str, *, bucket: str = BUCKET, table: str | None = TABLE,
                  use_lockfile: bool = False, key: str = "terraform.tfstate", workspace: str | None = None,
                  workspace_key_prefix: str | None = None, environment_type: str | None = None,
                  enabled: bool = True, abstract: bool = False) -> ComponentInstance:
    """An instance with an S3 backend laid out as Atmos does: prefix = component, workspace = stack."""
    prefix = workspace_key_prefix or component
    workspace = workspace or stack
    backend: dict[str, Any] = {"bucket": bucket, "key": key, "region": REGION,
                               "workspace_key_prefix": prefix}
    if table:
        backend["dynamodb_table"] = table
    if use_lockfile:
        backend["use_lockfile"] = True
    metadata: dict[str, Any] = {}
    if not enabled:
        metadata["enabled"] = False
    if abstract:
        metadata["type"] = "abstract"
    return ComponentInstance(
        component=component, stack=stack, component_type="terraform", terraform_component=component,
        vars={}, settings={}, env={}, backend_type="s3", backend=backend, metadata=metadata, providers={},
        workspace=workspace, state_key=state_object_key(key, workspace, prefix), stack_file=stack,
        environment_type=environment_type, region=REGION,
    )


def state_json(*, serial: int = 1, lineage: str = "lin-1", version: int = 4,
               terraform_version: str = "1.11.4", resources: list[dict[str, Any]] | None = None,
               outputs: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"version": version, "terraform_version": terraform_version, "serial": serial,
                       "lineage": lineage, "outputs": outputs or {}, "resources": resources or []},
                      indent=2).encode()


def resource(type_: str, name: str, *, provider: str = 'provider["registry.terraform.io/hashicorp/aws"]',
             attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"mode": "managed", "type": type_, "name": name, "provider": provider,
            "instances": [{"schema_version": 0, "attributes": attributes or {"id": name},
                           "sensitive_attributes": []}]}


def lock_info(*, lock_id: str = "11111111-2222-3333-4444-555555555555",
              created: datetime | str = "2026-01-01T00:00:00Z",
              operation: str = "OperationTypeApply", who: str = "ci@runner", path: str = "") -> str:
    text = created if isinstance(created, str) else \
        created.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"ID": lock_id, "Operation": operation, "Info": "", "Who": who,
                       "Version": "1.11.4", "Created": text, "Path": path})


def put_state(s3: Any, instance: ComponentInstance, body: bytes, *, dynamodb: Any = None,
              digest: str | None = None) -> None:
    """Write a state object (and its digest item, as Terraform does, when `dynamodb` is given)."""
    s3.put_object(Bucket=instance.state_bucket, Key=instance.state_key, Body=body)
    if dynamodb is not None:
        dynamodb.put_item(TableName=instance.lock_table, Item={
            "LockID": {"S": digest_item_id(instance.state_bucket, instance.state_key)},
            "Digest": {"S": digest if digest is not None else hashlib.md5(body).hexdigest()}})


def put_dynamodb_lock(dynamodb: Any, instance: ComponentInstance, info: str | None) -> str:
    item_id = lock_item_id(instance.state_bucket, instance.state_key)
    item: dict[str, Any] = {"LockID": {"S": item_id}}
    if info is not None:
        item["Info"] = {"S": info}
    dynamodb.put_item(TableName=instance.lock_table, Item=item)
    return item_id


def put_lockfile(s3: Any, instance: ComponentInstance, body: str | bytes) -> str:
    key = lockfile_key(instance.state_key)
    s3.put_object(Bucket=instance.state_bucket, Key=key, Body=body)
    return key
