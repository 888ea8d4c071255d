"""IAM roles, policies, attachments and users: creation as provider v5 does it, and out-of-band changes."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from harness.emulate.common import Creator, Mutation, Target, changes, split_tags, tag_list, tagged


def policy_text(value: Any) -> str:
    """A policy given as a mapping or as JSON text -> the JSON text Terraform sends (and stores)."""
    return value if isinstance(value, str) else json.dumps(value)


def create_role(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    trust = policy_text(args["assume_role_policy"])
    options: dict[str, Any] = {"Path": args.get("path", "/"), "MaxSessionDuration": int(args.get("max_session_duration",
                                                                                                  3600))}
    if args.get("description"):
        options["Description"] = args["description"]
    if args.get("permissions_boundary"):
        options["PermissionsBoundary"] = args["permissions_boundary"]
    if tags_all:
        options["Tags"] = tag_list(tags_all)
    role = target.client("iam").create_role(RoleName=args["name"], AssumeRolePolicyDocument=trust, **options)["Role"]
    return tagged({
        "id": args["name"], "name": args["name"], "name_prefix": "", "arn": role["Arn"], "unique_id": role["RoleId"],
        "path": options["Path"], "description": args.get("description", ""),
        "max_session_duration": options["MaxSessionDuration"], "assume_role_policy": trust,
        "permissions_boundary": args.get("permissions_boundary", ""), "force_detach_policies": False,
        "create_date": role["CreateDate"].isoformat() if hasattr(role["CreateDate"], "isoformat") else "",
        "managed_policy_arns": [], "inline_policy": [],
    }, tags, tags_all)


def create_policy(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    document = policy_text(args["policy"])
    options: dict[str, Any] = {"Path": args.get("path", "/")}
    if args.get("description"):
        options["Description"] = args["description"]
    if tags_all:
        options["Tags"] = tag_list(tags_all)
    policy = target.client("iam").create_policy(PolicyName=args["name"], PolicyDocument=document, **options)["Policy"]
    return tagged({
        "id": policy["Arn"], "arn": policy["Arn"], "name": args["name"], "name_prefix": "", "path": options["Path"],
        "description": args.get("description", ""), "policy": document, "policy_id": policy["PolicyId"],
        "attachment_count": 0,
    }, tags, tags_all)


def create_role_policy_attachment(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    target.client("iam").attach_role_policy(RoleName=args["role"], PolicyArn=args["policy_arn"])
    # The provider's id is `resource.PrefixedUniqueId("<role>-")`: a prefix, a timestamp and a counter.
    unique = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + f"{time.perf_counter_ns() % 10**12:012d}"
    return {"id": f"{args['role']}-{unique}", "role": args["role"], "policy_arn": args["policy_arn"]}


def create_user(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    options: dict[str, Any] = {"Path": args.get("path", "/")}
    if args.get("permissions_boundary"):
        options["PermissionsBoundary"] = args["permissions_boundary"]
    if tags_all:
        options["Tags"] = tag_list(tags_all)
    user = target.client("iam").create_user(UserName=args["name"], **options)["User"]
    return tagged({
        "id": args["name"], "name": args["name"], "arn": user["Arn"], "unique_id": user["UserId"],
        "path": options["Path"], "permissions_boundary": args.get("permissions_boundary"), "force_destroy": False,
    }, tags, tags_all)


# -- out-of-band changes -------------------------------------------------------------------------------

_TAGGING = {  # type -> (tag operation, untag operation, identifier parameter, state attribute)
    "aws_iam_role": ("tag_role", "untag_role", "RoleName", "name"),
    "aws_iam_policy": ("tag_policy", "untag_policy", "PolicyArn", "arn"),
    "aws_iam_user": ("tag_user", "untag_user", "UserName", "name"),
}


def _tagger(resource_type: str) -> tuple[Mutation, Mutation]:
    tag, untag, param, attribute = _TAGGING[resource_type]

    def set_tags(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        getattr(target.client("iam"), tag)(**{param: attrs[attribute]}, Tags=tag_list(params["tags"]))

    def remove_tag(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        getattr(target.client("iam"), untag)(**{param: attrs[attribute]}, TagKeys=[params["key"]])

    return set_tags, remove_tag


def change_role(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    iam = target.client("iam")
    if attribute == "assume_role_policy":
        iam.update_assume_role_policy(RoleName=attrs["name"], PolicyDocument=policy_text(value))
    elif attribute == "description":
        iam.update_role(RoleName=attrs["name"], Description=str(value))
    elif attribute == "max_session_duration":
        iam.update_role(RoleName=attrs["name"], MaxSessionDuration=int(value))
    else:
        raise ValueError(f"cannot change {attribute!r} of a role "
                         "(supported: assume_role_policy, description, max_session_duration)")


def change_policy(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute != "policy":
        raise ValueError(f"cannot change {attribute!r} of a policy (supported: policy)")
    target.client("iam").create_policy_version(PolicyArn=attrs["arn"], PolicyDocument=policy_text(value),
                                               SetAsDefault=True)


def change_user(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute != "path":
        raise ValueError(f"cannot change {attribute!r} of a user (supported: path)")
    target.client("iam").update_user(UserName=attrs["name"], NewPath=str(value))


def delete_role(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    iam = target.client("iam")
    for attached in iam.list_attached_role_policies(RoleName=attrs["name"])["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=attrs["name"], PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=attrs["name"])


def delete_policy(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    iam = target.client("iam")
    for role in iam.list_entities_for_policy(PolicyArn=attrs["arn"]).get("PolicyRoles", []):
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=attrs["arn"])
    iam.delete_policy(PolicyArn=attrs["arn"])


def detach(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("iam").detach_role_policy(RoleName=attrs["role"], PolicyArn=attrs["policy_arn"])


def delete_user(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("iam").delete_user(UserName=attrs["name"])


CREATORS: dict[str, Creator] = {
    "aws_iam_role": create_role,
    "aws_iam_policy": create_policy,
    "aws_iam_role_policy_attachment": create_role_policy_attachment,
    "aws_iam_user": create_user,
}

MUTATIONS: dict[tuple[str, str], Mutation] = {
    **{(op, t): f for t in _TAGGING for op, f in zip(("set_tags", "remove_tag"), _tagger(t), strict=True)},
    ("change_attribute", "aws_iam_role"): change_role,
    ("change_attribute", "aws_iam_policy"): change_policy,
    ("change_attribute", "aws_iam_user"): change_user,
    ("delete_resource", "aws_iam_role"): delete_role,
    ("delete_resource", "aws_iam_policy"): delete_policy,
    ("delete_resource", "aws_iam_role_policy_attachment"): detach,
    ("delete_resource", "aws_iam_user"): delete_user,
}
