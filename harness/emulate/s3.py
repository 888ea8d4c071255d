"""S3 buckets and their configuration resources: creation as provider v5 does it, and out-of-band changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from harness.emulate.common import Creator, Mutation, Target, block, changes, split_tags, tag_list, tagged


def create_bucket(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    name = args["bucket"]
    s3 = target.client("s3")
    options: dict[str, Any] = {}
    if target.region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
    if args.get("object_lock_enabled"):
        options["ObjectLockEnabledForBucket"] = True
    s3.create_bucket(Bucket=name, **options)
    tags, tags_all = split_tags(target, args)
    if tags_all:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(tags_all)})
    return tagged({
        "id": name, "bucket": name, "bucket_prefix": "", "arn": f"arn:aws:s3:::{name}",
        "bucket_domain_name": f"{name}.s3.amazonaws.com",
        "bucket_regional_domain_name": f"{name}.s3.{target.region}.amazonaws.com",
        "region": target.region, "force_destroy": bool(args.get("force_destroy", False)),
        "object_lock_enabled": bool(args.get("object_lock_enabled", False)), "request_payer": "BucketOwner",
        "acceleration_status": "", "hosted_zone_id": "Z3AQBSTGFYJSTF", "policy": "", "timeouts": None,
    }, tags, tags_all)


def create_versioning(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    bucket = args["bucket"]
    config = block(args.get("versioning_configuration"))
    status = config.get("status", "Enabled")
    if status != "Disabled":   # like the provider: "Disabled" only adopts an unversioned bucket
        target.client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
    return {"id": bucket, "bucket": bucket, "expected_bucket_owner": "", "mfa": None,
            "versioning_configuration": [{"status": status, "mfa_delete": config.get("mfa_delete", "")}]}


def _encryption_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    default = block(rule.get("apply_server_side_encryption_by_default"))
    api: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": default.get("sse_algorithm",
                                                                                             "AES256")}}
    if default.get("kms_master_key_id"):
        api["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] = default["kms_master_key_id"]
    if rule.get("bucket_key_enabled") is not None:
        api["BucketKeyEnabled"] = bool(rule["bucket_key_enabled"])
    return api


def create_encryption(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    bucket = args["bucket"]
    rules = args.get("rule") or [{}]
    rules = [rules] if isinstance(rules, Mapping) else rules
    target.client("s3").put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [_encryption_rule(r) for r in rules]})
    state_rules = []
    for rule in rules:
        default = block(rule.get("apply_server_side_encryption_by_default"))
        state_rules.append({"apply_server_side_encryption_by_default": [
            {"sse_algorithm": default.get("sse_algorithm", "AES256"),
             "kms_master_key_id": default.get("kms_master_key_id", "")}],
            "bucket_key_enabled": bool(rule.get("bucket_key_enabled", False))})
    return {"id": bucket, "bucket": bucket, "expected_bucket_owner": "", "rule": state_rules}


_BLOCKS = {"block_public_acls": "BlockPublicAcls", "block_public_policy": "BlockPublicPolicy",
           "ignore_public_acls": "IgnorePublicAcls", "restrict_public_buckets": "RestrictPublicBuckets"}


def create_public_access_block(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    bucket = args["bucket"]
    settings = {name: bool(args.get(name, False)) for name in _BLOCKS}
    target.client("s3").put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={_BLOCKS[k]: v for k, v in settings.items()})
    return {"id": bucket, "bucket": bucket, **settings}


# -- out-of-band changes -------------------------------------------------------------------------------

def _bucket_tags(target: Target, bucket: str) -> dict[str, str]:
    try:
        tag_set = target.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError:
        tag_set = []
    return {t["Key"]: t["Value"] for t in tag_set}


def _put_bucket_tags(target: Target, bucket: str, tags: Mapping[str, str]) -> None:
    s3 = target.client("s3")
    if tags:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(tags)})
    else:
        s3.delete_bucket_tagging(Bucket=bucket)


def set_tags(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    _put_bucket_tags(target, attrs["id"], {**_bucket_tags(target, attrs["id"]), **params["tags"]})


def remove_tag(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    tags = _bucket_tags(target, attrs["id"])
    tags.pop(params["key"], None)
    _put_bucket_tags(target, attrs["id"], tags)


def delete_bucket(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("s3").delete_bucket(Bucket=attrs["id"])


def suspend_versioning(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("s3").put_bucket_versioning(Bucket=attrs["bucket"],
                                              VersioningConfiguration={"Status": "Suspended"})


def change_encryption(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute != "sse_algorithm":
        raise ValueError(f"cannot change {attribute!r} of a bucket encryption (supported: sse_algorithm)")
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": value}}
    target.client("s3").put_bucket_encryption(Bucket=attrs["bucket"],
                                              ServerSideEncryptionConfiguration={"Rules": [rule]})


def delete_encryption(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("s3").delete_bucket_encryption(Bucket=attrs["bucket"])


def change_public_access_block(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute not in _BLOCKS:
        raise ValueError(f"cannot change {attribute!r} of a public access block (supported: {', '.join(_BLOCKS)})")
    s3 = target.client("s3")
    current = s3.get_public_access_block(Bucket=attrs["bucket"])["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(Bucket=attrs["bucket"],
                               PublicAccessBlockConfiguration={**current, _BLOCKS[attribute]: bool(value)})


def delete_public_access_block(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("s3").delete_public_access_block(Bucket=attrs["bucket"])


CREATORS: dict[str, Creator] = {
    "aws_s3_bucket": create_bucket,
    "aws_s3_bucket_versioning": create_versioning,
    "aws_s3_bucket_server_side_encryption_configuration": create_encryption,
    "aws_s3_bucket_public_access_block": create_public_access_block,
}

MUTATIONS: dict[tuple[str, str], Mutation] = {
    ("set_tags", "aws_s3_bucket"): set_tags,
    ("remove_tag", "aws_s3_bucket"): remove_tag,
    ("delete_resource", "aws_s3_bucket"): delete_bucket,
    ("suspend_versioning", "aws_s3_bucket_versioning"): suspend_versioning,
    ("change_attribute", "aws_s3_bucket_server_side_encryption_configuration"): change_encryption,
    ("delete_resource", "aws_s3_bucket_server_side_encryption_configuration"): delete_encryption,
    ("change_attribute", "aws_s3_bucket_public_access_block"): change_public_access_block,
    ("delete_resource", "aws_s3_bucket_public_access_block"): delete_public_access_block,
}
