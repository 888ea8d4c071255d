"""Out-of-band changes for drift scenarios: what someone does in the console behind Terraform's back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.emulate.resources import Target, _permissions, _tag_list

Mutation = Callable[[Target, Mapping[str, Any], Mapping[str, Any]], None]
# (op, resource type) -> function(target, state attributes of the resource, the mutation's parameters)


def _bucket_tags(target: Target, bucket: str) -> dict[str, str]:
    s3 = target.client("s3")
    try:
        tag_set = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except s3.exceptions.ClientError:
        tag_set = []
    return {t["Key"]: t["Value"] for t in tag_set}


def _put_bucket_tags(target: Target, bucket: str, tags: Mapping[str, str]) -> None:
    s3 = target.client("s3")
    if tags:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tag_list(tags)})
    else:
        s3.delete_bucket_tagging(Bucket=bucket)


def bucket_set_tags(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    _put_bucket_tags(target, attrs["id"], {**_bucket_tags(target, attrs["id"]), **params["tags"]})


def bucket_remove_tag(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    tags = _bucket_tags(target, attrs["id"])
    tags.pop(params["key"], None)
    _put_bucket_tags(target, attrs["id"], tags)


def bucket_delete(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("s3").delete_bucket(Bucket=attrs["id"])


def ec2_set_tags(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").create_tags(Resources=[attrs["id"]], Tags=_tag_list(params["tags"]))


def ec2_remove_tag(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").delete_tags(Resources=[attrs["id"]], Tags=[{"Key": params["key"]}])


def sg_add_ingress_rule(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").authorize_security_group_ingress(GroupId=attrs["id"],
                                                          IpPermissions=_permissions([params["rule"]]))


def sg_delete(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").delete_security_group(GroupId=attrs["id"])


MUTATIONS: Mapping[tuple[str, str], Mutation] = {
    ("set_tags", "aws_s3_bucket"): bucket_set_tags,
    ("remove_tag", "aws_s3_bucket"): bucket_remove_tag,
    ("delete_resource", "aws_s3_bucket"): bucket_delete,
    ("set_tags", "aws_security_group"): ec2_set_tags,
    ("remove_tag", "aws_security_group"): ec2_remove_tag,
    ("add_ingress_rule", "aws_security_group"): sg_add_ingress_rule,
    ("delete_resource", "aws_security_group"): sg_delete,
}
