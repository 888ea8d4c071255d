"""KMS keys: `ListKeys` and the tags once per region, then DescribeKey, rotation and policy per key in a state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import json_document
from harness.inventory.spec import Attr, Detail, Listing, ResourceType
from harness.inventory.types.tagging import TAGS, tags_join

KEY_GONE = ("NotFoundException",)
# The provider treats a key scheduled for deletion as gone.
DELETED_STATES = ("PendingDeletion", "PendingReplicaDeletion")


def _key(item: Mapping[str, Any]) -> dict[str, str]:
    return {"KeyId": item["KeyId"]}


def _meta(name: str, default: Any = None) -> Any:
    return lambda k: (k.get("Metadata") or {}).get(name, default)


KMS_KEY = ResourceType(
    type="aws_kms_key",
    service="kms",
    listing=Listing("list_keys", "Keys", params={"Limit": 1000}),   # the largest page (default 100)
    id_field="KeyId",
    details=(
        Detail(key="Metadata", operation="describe_key", params=_key,
               extract=lambda response: response["KeyMetadata"], missing_codes=KEY_GONE, ownership=True),
        Detail(key="Rotation", operation="get_key_rotation_status", params=_key,
               extract=lambda response: response.get("KeyRotationEnabled", False),
               # Asymmetric and imported keys have no automatic rotation: the provider reads false.
               absent_codes=("UnsupportedOperationException",), default=False, missing_codes=KEY_GONE),
        Detail(key="Policy", operation="get_key_policy", params=lambda k: {**_key(k), "PolicyName": "default"},
               extract=lambda response: response.get("Policy"), missing_codes=KEY_GONE),
    ),
    joins=(tags_join(lambda arn: arn, lambda k: k.get("KeyArn")),),
    exists=lambda k: _meta("KeyState")(k) not in DELETED_STATES,
    attributes=(
        Attr("description", _meta("Description", ""), state=lambda v: v or ""),
        Attr("key_usage", _meta("KeyUsage")),
        Attr("customer_master_key_spec", _meta("KeySpec")),
        Attr("is_enabled", _meta("Enabled", False), live=bool, state=bool),
        Attr("enable_key_rotation", "Rotation", live=bool, state=bool),
        Attr("multi_region", _meta("MultiRegion", False), live=bool, state=bool),
        Attr("policy", "Policy", live=json_document, state=json_document, compare="json"),
        TAGS,
    ),
)

TYPES = (KMS_KEY,)
