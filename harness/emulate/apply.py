"""Provision a component instance on moto and write its state where Terraform's S3 backend would.

Each emulated component folder holds `stackharness-emulation.yaml`, listing its resources and
their arguments as templates over the instance's vars::

    resources:
      - address: aws_s3_bucket.this
        args:
          bucket: "{namespace}-{stage}-{name}"   # a format string over vars
          tags: "{tags}"                          # exactly one placeholder: the var's value itself
      - address: aws_s3_bucket_versioning.this
        args:
          bucket: {ref: aws_s3_bucket.this.id}    # an attribute of a resource created before
      - address: aws_sqs_queue.jobs
        count: 3                                  # or "{queue_count}"; `{index}` is 0, 1, 2
        args:
          name: "{namespace}-jobs-{index}"

Resources are created in file order; `ref` may name an indexed instance (`aws_sqs_queue.jobs[{index}].arn`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from botocore.exceptions import ParamValidationError

from harness.emulate.resources import CREATORS, REFRESHES, Target
from harness.errors import HarnessError
from harness.stacks.model import ComponentInstance

if TYPE_CHECKING:
    from harness.aws.session import SessionPool

EMULATION_FILE = "stackharness-emulation.yaml"
TERRAFORM_VERSION = "1.11.4"
AWS_PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
_WHOLE_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_REF = re.compile(r"^(?P<address>[A-Za-z0-9_]+\.[A-Za-z0-9_-]+(?:\[\d+\])?)\.(?P<attribute>[A-Za-z0-9_]+)$")


class EmulationError(HarnessError):
    """A component that cannot be provisioned by the emulator."""


@dataclass(frozen=True)
class ResourceTemplate:
    address: str
    args: Mapping[str, Any]
    count: Any = None                      # None: a single instance; else an int or a "{var}" template

    @property
    def type(self) -> str:
        return self.address.split(".")[0]

    @property
    def name(self) -> str:
        return self.address.split(".")[1]


def load_templates(component_path: Path) -> list[ResourceTemplate]:
    """The resources an emulated component creates, from its emulation file."""
    path = component_path / EMULATION_FILE
    if not path.is_file():
        raise EmulationError("component has no emulation file", where=path,
                             hint=f"add {EMULATION_FILE} listing its resources, or provision it with terraform")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    templates = []
    for entry in data.get("resources", ()):
        template = ResourceTemplate(entry["address"], entry.get("args") or {}, entry.get("count"))
        if template.type not in CREATORS:
            raise EmulationError(f"resource type {template.type} cannot be emulated", where=path,
                                 hint=f"supported: {', '.join(sorted(CREATORS))}")
        templates.append(template)
    return templates


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Fill templates: `"{x}"` alone yields the var's value; other strings are formatted; recurse."""
    if isinstance(value, str):
        whole = _WHOLE_PLACEHOLDER.match(value)
        if whole:
            return variables.get(whole.group(1))
        return value.format_map(variables)
    if isinstance(value, dict):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    return value


def resolve_refs(value: Any, created: Mapping[str, Mapping[str, Any]]) -> Any:
    """Replace every `{ref: ADDRESS.ATTRIBUTE}` by that attribute of a resource created before."""
    if isinstance(value, dict):
        if set(value) == {"ref"}:
            match = _REF.match(str(value["ref"]))
            if match is None or match.group("address") not in created:
                raise KeyError(f"ref {value['ref']!r} names no resource created before it")
            return created[match.group("address")][match.group("attribute")]
        return {k: resolve_refs(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, created) for v in value]
    return value


def state_document(resources: list[tuple[ResourceTemplate, list[tuple[int | None, dict[str, Any]]]]]) -> dict[str, Any]:
    """A Terraform v4 state holding the given resources (each with its instances), as `apply` leaves it."""
    def instance(index: int | None, attrs: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"schema_version": 0, "attributes": attrs, "sensitive_attributes": [],
                                "private": "bnVsbA=="}
        return {"index_key": index, **body} if index is not None else body

    return {
        "version": 4, "terraform_version": TERRAFORM_VERSION, "serial": 1, "lineage": str(uuid.uuid4()),
        "outputs": {},
        "resources": [{"mode": "managed", "type": t.type, "name": t.name, "provider": AWS_PROVIDER,
                       "instances": [instance(i, attrs) for i, attrs in instances]} for t, instances in resources],
        "check_results": None,
    }


def write_state(pool: SessionPool, instance: ComponentInstance, state: Mapping[str, Any]) -> None:
    """Put the state object and its `-md5` digest item exactly as Terraform's S3 backend does."""
    body = json.dumps(state, indent=2).encode()
    region = instance.backend.get("region") or instance.region
    pool.client("s3", region=region).put_object(Bucket=instance.state_bucket, Key=instance.state_key, Body=body)
    if instance.lock_table:
        pool.client("dynamodb", region=region).put_item(TableName=instance.lock_table, Item={
            "LockID": {"S": f"{instance.state_bucket}/{instance.state_key}-md5"},
            "Digest": {"S": hashlib.md5(body).hexdigest()}})


def instance_target(pool: SessionPool, instance: ComponentInstance, account_id: str, *,
                    default_tags: bool = True) -> Target:
    """Where an instance's resources live: its region, with its provider default tags (unless the
    change is made by hand, outside Terraform)."""
    region = instance.region or pool.config.default_region
    configured = (instance.providers.get("aws") or {}).get("default_tags", {}).get("tags") or {}
    default_tags = configured if default_tags else {}
    return Target(client=lambda service: pool.client(service, region=region), region=region,
                  account_id=account_id, default_tags={str(k): str(v) for k, v in default_tags.items()})


def apply_instance(pool: SessionPool, instance: ComponentInstance, *, account_id: str) -> dict[str, Any]:
    """Create the instance's resources and write its state; returns the state document."""
    if not instance.component_path:
        raise EmulationError(f"{instance.id} has no component folder", where=instance.stack_file)
    emulation_file = Path(instance.component_path) / EMULATION_FILE
    target = instance_target(pool, instance, account_id)
    created: dict[str, dict[str, Any]] = {}
    resources = []
    for template in load_templates(Path(instance.component_path)):
        try:
            count = render(template.count, instance.vars) if template.count is not None else None
            indexes: list[int | None] = list(range(int(count))) if count is not None else [None]
            instances = []
            for index in indexes:
                variables = {**instance.vars, "index": index} if index is not None else instance.vars
                args = resolve_refs(render(template.args, variables), created)
                attrs = CREATORS[template.type](target, args)
                if template.type in REFRESHES:
                    REFRESHES[template.type](attrs, created)
                created[template.address if index is None else f"{template.address}[{index}]"] = attrs
                instances.append((index, attrs))
        except (KeyError, ValueError, TypeError, ParamValidationError) as exc:
            raise EmulationError(f"{instance.id}: {template.address}: cannot fill argument template ({exc})",
                                 where=emulation_file, hint="define the var in the stack or fix the template") from None
        resources.append((template, instances))
    state = state_document(resources)
    write_state(pool, instance, state)
    return state
