"""S3 resource types: one `ListBuckets` per account shared by all four, one or two reads per bucket.

The deprecated computed mirrors on `aws_s3_bucket` (`versioning`, `server_side_encryption_configuration`,
`grant`, `acl`, `policy`, `lifecycle_rule`, ...: `BUCKET_MIRRORS`) are not compared, in plan-JSON drift
either: their dedicated resources are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import canonical_set, tags_from_list
from harness.inventory.spec import Attr, Detail, Listing, ResourceType

BUCKETS = Listing("list_buckets", "Buckets", global_service=True)
NO_BUCKET = ("NoSuchBucket",)


def _bucket(item: Mapping[str, Any]) -> dict[str, str]:
    return {"Bucket": item["Name"]}


def bucket_of(attributes: Mapping[str, Any]) -> str | None:
    """The bucket a bucket-level resource belongs to (its id may be `bucket,expected_owner`)."""
    return attributes.get("bucket") or str(attributes.get("id") or "").split(",")[0] or None


# aws_s3_bucket attributes (AWS provider v4+) that mirror the dedicated aws_s3_bucket_* resources.
BUCKET_MIRRORS = ("acceleration_status", "acl", "cors_rule", "grant", "lifecycle_rule", "logging",
                  "object_lock_configuration", "policy", "replication_configuration", "request_payer",
                  "server_side_encryption_configuration", "versioning", "website", "website_domain",
                  "website_endpoint")


S3_BUCKET = ResourceType(
    type="aws_s3_bucket",
    service="s3",
    listing=BUCKETS,
    id_field="Name",
    details=(
        Detail(key="Tagging", operation="get_bucket_tagging", params=_bucket,
               extract=lambda response: response.get("TagSet", []),
               absent_codes=("NoSuchTagSet",), default=[], missing_codes=NO_BUCKET, ownership=True),
        Detail(key="ObjectLock", operation="get_object_lock_configuration", params=_bucket,
               extract=lambda response: response.get("ObjectLockConfiguration", {}),
               absent_codes=("ObjectLockConfigurationNotFoundError",), default={}, missing_codes=NO_BUCKET),
    ),
    attributes=(
        Attr("bucket", "Name"),
        Attr("object_lock_enabled", lambda item: (item.get("ObjectLock") or {}).get("ObjectLockEnabled") == "Enabled",
             state=bool),
        Attr("tags_all", lambda item: tags_from_list(item.get("Tagging")), compare="tags"),
    ),
    name_of=lambda item: item["Name"],
    plan_ignored=BUCKET_MIRRORS,
)


def versioning_configuration(value: Any) -> list[dict[str, str]]:
    """`[{status, mfa_delete}]` as the provider writes it: no status reads as "Disabled", no MFA delete as ""."""
    if isinstance(value, list):          # the state's one-element block
        value = value[0] if value else {}
        status, mfa = value.get("status"), value.get("mfa_delete")
    else:                                # GetBucketVersioning's response
        value = value or {}
        status, mfa = value.get("Status"), value.get("MFADelete")
    return [{"status": status or "Disabled", "mfa_delete": mfa or ""}]


S3_BUCKET_VERSIONING = ResourceType(
    type="aws_s3_bucket_versioning",
    service="s3",
    listing=BUCKETS,
    id_field="Name",
    state_id=bucket_of,
    details=(Detail(key="Versioning", operation="get_bucket_versioning", params=_bucket,
                    missing_codes=NO_BUCKET),),
    attributes=(
        Attr("bucket", "Name"),
        Attr("versioning_configuration", "Versioning", live=versioning_configuration,
             state=versioning_configuration),
    ),
    standalone=False,
)


def encryption_rules(rules: Any) -> list[dict[str, Any]]:
    """SSE rules in the provider's form (a set): the API's `Rules` or the state's `rule` blocks.

    Example: `{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}` ->
    `{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}],
    "bucket_key_enabled": False}`.
    """
    result = []
    for rule in rules or ():
        if "ApplyServerSideEncryptionByDefault" in rule or "BucketKeyEnabled" in rule:
            default = rule.get("ApplyServerSideEncryptionByDefault")
            defaults = [{"sse_algorithm": default.get("SSEAlgorithm", ""),
                         "kms_master_key_id": default.get("KMSMasterKeyID") or ""}] if default else []
            bucket_key = rule.get("BucketKeyEnabled")
        else:
            defaults = [{"sse_algorithm": d.get("sse_algorithm") or "",
                         "kms_master_key_id": d.get("kms_master_key_id") or ""}
                        for d in rule.get("apply_server_side_encryption_by_default") or ()]
            bucket_key = rule.get("bucket_key_enabled")
        result.append({"apply_server_side_encryption_by_default": defaults, "bucket_key_enabled": bool(bucket_key)})
    return canonical_set(result)


S3_BUCKET_SSE = ResourceType(
    type="aws_s3_bucket_server_side_encryption_configuration",
    service="s3",
    listing=BUCKETS,
    id_field="Name",
    state_id=bucket_of,
    details=(Detail(key="Encryption", operation="get_bucket_encryption", params=_bucket,
                    extract=lambda response: response.get("ServerSideEncryptionConfiguration", {}).get("Rules", []),
                    missing_codes=(*NO_BUCKET, "ServerSideEncryptionConfigurationNotFoundError")),),
    attributes=(
        Attr("bucket", "Name"),
        Attr("rule", "Encryption", live=encryption_rules, state=encryption_rules, compare="set"),
    ),
    standalone=False,
)

_BLOCKS = (("block_public_acls", "BlockPublicAcls"), ("block_public_policy", "BlockPublicPolicy"),
           ("ignore_public_acls", "IgnorePublicAcls"), ("restrict_public_buckets", "RestrictPublicBuckets"))

S3_BUCKET_PUBLIC_ACCESS_BLOCK = ResourceType(
    type="aws_s3_bucket_public_access_block",
    service="s3",
    listing=BUCKETS,
    id_field="Name",
    state_id=bucket_of,
    details=(Detail(key="PublicAccessBlock", operation="get_public_access_block", params=_bucket,
                    extract=lambda response: response.get("PublicAccessBlockConfiguration", {}),
                    missing_codes=(*NO_BUCKET, "NoSuchPublicAccessBlockConfiguration")),),
    attributes=(
        Attr("bucket", "Name"),
        *(Attr(name, lambda item, f=field: (item.get("PublicAccessBlock") or {}).get(f), live=bool, state=bool)
          for name, field in _BLOCKS),
    ),
    standalone=False,
)

TYPES = (S3_BUCKET, S3_BUCKET_VERSIONING, S3_BUCKET_SSE, S3_BUCKET_PUBLIC_ACCESS_BLOCK)

