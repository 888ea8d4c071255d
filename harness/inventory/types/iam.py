"""IAM resource types (global): one `GetAccountAuthorizationDetails` per account serves all four.

That one paginated call returns every role (trust policy, attached policies, permissions boundary,
tags), every user and every customer managed policy with its versions. `ListRoles` adds each role's
description and maximum session duration in bulk; only policy tags need a call per policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import empty_to_none, json_document, last_segment, tags_from_list
from harness.inventory.spec import Attr, Detail, Join, Listing, ResourceType

AUTHORIZATION_DETAILS = {"Filter": ["Role", "User", "LocalManagedPolicy"], "MaxItems": 1000}   # largest page
NO_ENTITY = ("NoSuchEntity",)


def _details(key: str) -> Listing:
    """The shared authorization-details listing, shaped to one kind of entity."""
    return Listing("get_account_authorization_details", "@", params=AUTHORIZATION_DETAILS, global_service=True,
                   shape=lambda pages: [entity for page in pages for entity in page.get(key) or ()])


def _attachments(pages: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{"Role": role["RoleName"], "PolicyArn": attached["PolicyArn"]}
            for page in pages for role in page.get("RoleDetailList") or ()
            for attached in role.get("AttachedManagedPolicies") or ()]


TAGS = Attr("tags_all", lambda item: tags_from_list(item.get("Tags")), compare="tags")
POLICY_JSON = {"live": json_document, "state": json_document, "compare": "json"}
OPTIONAL = {"live": empty_to_none, "state": empty_to_none}


def _boundary(item: Mapping[str, Any]) -> str | None:
    return (item.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


IAM_ROLE = ResourceType(
    type="aws_iam_role",
    service="iam",
    listing=_details("RoleDetailList"),
    joins=(Join("Listed", Listing("list_roles", "Roles", params={"MaxItems": 1000}, global_service=True), "RoleName"),),
    id_field="RoleName",
    attributes=(
        Attr("name", "RoleName"),
        Attr("path", "Path"),
        Attr("description", lambda r: r["Listed"].get("Description"), **OPTIONAL),
        Attr("max_session_duration", lambda r: r["Listed"].get("MaxSessionDuration", 3600),
             state=lambda v: int(v) if v is not None else 3600),
        Attr("assume_role_policy", "AssumeRolePolicyDocument", **POLICY_JSON),
        Attr("permissions_boundary", _boundary, **OPTIONAL),
        TAGS,
    ),
    name_of=lambda r: r["RoleName"],
)


def _default_version(policy: Mapping[str, Any]) -> Any:
    return next((v.get("Document") for v in policy.get("PolicyVersionList") or () if v.get("IsDefaultVersion")), None)


IAM_POLICY = ResourceType(
    type="aws_iam_policy",
    service="iam",
    listing=_details("Policies"),
    id_field="Arn",
    details=(Detail(key="Tags", operation="list_policy_tags", params=lambda p: {"PolicyArn": p["Arn"]},
                    extract=lambda response: response.get("Tags", []), missing_codes=NO_ENTITY, ownership=True),),
    attributes=(
        # moto's authorization details omit PolicyName; the ARN ends with it (after the path).
        Attr("name", lambda p: p.get("PolicyName") or last_segment(p["Arn"])),
        Attr("path", "Path"),
        Attr("description", "Description", **OPTIONAL),
        Attr("policy", _default_version, **POLICY_JSON),
        TAGS,
    ),
    name_of=lambda p: p.get("PolicyName") or last_segment(p["Arn"]),
)

IAM_ROLE_POLICY_ATTACHMENT = ResourceType(
    type="aws_iam_role_policy_attachment",
    service="iam",
    listing=Listing("get_account_authorization_details", "@", params=AUTHORIZATION_DETAILS, global_service=True,
                    shape=_attachments),
    id_field=lambda a: f"{a['Role']}/{a['PolicyArn']}",
    # The provider's id is generated (`<role>-2024...`); it reads the attachment by role and policy ARN.
    state_id=lambda attrs: f"{attrs.get('role')}/{attrs.get('policy_arn')}",
    attributes=(Attr("role", "Role"), Attr("policy_arn", "PolicyArn")),
    standalone=False,
)

IAM_USER = ResourceType(
    type="aws_iam_user",
    service="iam",
    listing=_details("UserDetailList"),
    id_field="UserName",
    attributes=(
        Attr("name", "UserName"),
        Attr("path", "Path"),
        Attr("permissions_boundary", _boundary, **OPTIONAL),
        TAGS,
    ),
    name_of=lambda u: u["UserName"],
)

TYPES = (IAM_ROLE, IAM_POLICY, IAM_ROLE_POLICY_ATTACHMENT, IAM_USER)
