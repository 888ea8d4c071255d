"""Per-type creators: make the live resource with boto3 and return the state attributes provider v5 writes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.inventory.types.ec2 import normalise_rules


@dataclass(frozen=True)
class Target:
    """Where a resource is created: a client factory for the instance's account and region."""

    client: Callable[[str], Any]           # service name -> boto3 client
    region: str
    account_id: str
    default_tags: Mapping[str, str]


Creator = Callable[[Target, Mapping[str, Any]], dict[str, Any]]


def _tags(target: Target, args: Mapping[str, Any]) -> tuple[dict[str, str] | None, dict[str, str]]:
    """(`tags` as configured or None, `tags_all` = provider default tags overlaid by `tags`)."""
    tags = dict(args["tags"]) if args.get("tags") else None
    return tags, {**target.default_tags, **(tags or {})}


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def create_s3_bucket(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    name = args["bucket"]
    s3 = target.client("s3")
    if target.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": target.region})
    tags, tags_all = _tags(target, args)
    if tags_all:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(tags_all)})
    return {
        "id": name, "bucket": name, "bucket_prefix": "", "arn": f"arn:aws:s3:::{name}",
        "bucket_domain_name": f"{name}.s3.amazonaws.com",
        "bucket_regional_domain_name": f"{name}.s3.{target.region}.amazonaws.com",
        "region": target.region, "force_destroy": bool(args.get("force_destroy", False)),
        "object_lock_enabled": False, "request_payer": "BucketOwner", "acceleration_status": "",
        "hosted_zone_id": "Z3AQBSTGFYJSTF", "policy": "", "tags": tags, "tags_all": tags_all,
        "timeouts": None,
    }


def _permissions(rules: Any) -> list[dict[str, Any]]:
    permissions = []
    for rule in rules or ():
        permission: dict[str, Any] = {"IpProtocol": str(rule.get("protocol", "-1"))}
        if permission["IpProtocol"] != "-1":
            permission["FromPort"], permission["ToPort"] = int(rule["from_port"]), int(rule["to_port"])
        description = {"Description": rule["description"]} if rule.get("description") else {}
        permission["IpRanges"] = [{"CidrIp": c, **description} for c in rule.get("cidr_blocks", ())]
        permission["Ipv6Ranges"] = [{"CidrIpv6": c, **description} for c in rule.get("ipv6_cidr_blocks", ())]
        permissions.append(permission)
    return permissions


def create_security_group(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    ec2 = target.client("ec2")
    vpc_id = args.get("vpc_id") or ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])[
        "Vpcs"][0]["VpcId"]
    description = args.get("description") or "Managed by Terraform"
    tags, tags_all = _tags(target, args)
    extra = {"TagSpecifications": [{"ResourceType": "security-group", "Tags": _tag_list(tags_all)}]} if tags_all else {}
    group_id = ec2.create_security_group(GroupName=args["name"], Description=description, VpcId=vpc_id,
                                         **extra)["GroupId"]
    # Like the provider: drop AWS's default allow-all egress, then authorise exactly what is configured.
    default_egress = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["IpPermissionsEgress"]
    if default_egress:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=default_egress)
    if args.get("ingress"):
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=_permissions(args["ingress"]))
    if args.get("egress"):
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=_permissions(args["egress"]))
    return {
        "id": group_id, "arn": f"arn:aws:ec2:{target.region}:{target.account_id}:security-group/{group_id}",
        "name": args["name"], "name_prefix": "", "description": description, "vpc_id": vpc_id,
        "owner_id": target.account_id, "revoke_rules_on_delete": False,
        "ingress": normalise_rules(args.get("ingress")), "egress": normalise_rules(args.get("egress")),
        "tags": tags, "tags_all": tags_all, "timeouts": None,
    }


CREATORS: Mapping[str, Creator] = {
    "aws_s3_bucket": create_s3_bucket,
    "aws_security_group": create_security_group,
}
