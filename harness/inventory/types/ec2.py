"""EC2 / VPC resource types: one `Describe*` listing per region serves every resource of a type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import (
    canonical,
    empty_to_none,
    last_segment,
    name_tag,
    sorted_strings,
    tags_from_list,
)
from harness.inventory.spec import Attr, Listing, ResourceType

TAGS = Attr("tags_all", lambda item: tags_from_list(item.get("Tags")), compare="tags")
OPTIONAL = {"live": empty_to_none, "state": empty_to_none}
PAGE = {"MaxResults": 1000}   # the largest page EC2 serves (the default is every item, or 1,000 with filters)

_RULE_LISTS = ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups")


def security_group_rules(permissions: list[Mapping[str, Any]] | None, group_id: str) -> list[dict[str, Any]]:
    """EC2 `IpPermissions` -> the provider's inline rule objects, as `aws_security_group` stores them.

    The AWS provider gathers the API's permissions into one rule per (protocol, from, to,
    description); each CIDR, IPv6 range, prefix list and source group lands in that rule's lists,
    and a source group equal to the group itself becomes `self = true`. Example: one permission
    tcp/443 with ranges 10.0.0.0/8 and 10.1.0.0/16 (no descriptions) is one rule with both CIDRs.
    """
    rules: dict[tuple[str, int, int, str], dict[str, Any]] = {}

    def rule_for(perm: Mapping[str, Any], description: str | None) -> dict[str, Any]:
        protocol = str(perm.get("IpProtocol", "-1"))
        from_port, to_port = int(perm.get("FromPort", 0) or 0), int(perm.get("ToPort", 0) or 0)
        if protocol == "-1":
            from_port = to_port = 0
        key = (protocol, from_port, to_port, description or "")
        if key not in rules:
            rules[key] = {"protocol": protocol, "from_port": from_port, "to_port": to_port,
                          "description": description or "", "self": False,
                          **{name: [] for name in _RULE_LISTS}}
        return rules[key]

    for perm in permissions or ():
        for entry in perm.get("IpRanges", ()):
            rule_for(perm, entry.get("Description"))["cidr_blocks"].append(entry["CidrIp"])
        for entry in perm.get("Ipv6Ranges", ()):
            rule_for(perm, entry.get("Description"))["ipv6_cidr_blocks"].append(entry["CidrIpv6"])
        for entry in perm.get("PrefixListIds", ()):
            rule_for(perm, entry.get("Description"))["prefix_list_ids"].append(entry["PrefixListId"])
        for entry in perm.get("UserIdGroupPairs", ()):
            rule = rule_for(perm, entry.get("Description"))
            if entry.get("GroupId") == group_id:
                rule["self"] = True
            else:
                rule["security_groups"].append(entry.get("GroupId") or entry.get("GroupName"))
    return normalise_rules(rules.values())


def normalise_rules(rules: Any) -> list[dict[str, Any]]:
    """Rules (live or from state) in one canonical form: list fields sorted, rules sorted."""
    result = []
    for rule in rules or ():
        clean = {"protocol": protocol(rule.get("protocol")), "from_port": int(rule.get("from_port") or 0),
                 "to_port": int(rule.get("to_port") or 0), "description": rule.get("description") or "",
                 "self": bool(rule.get("self"))}
        for name in _RULE_LISTS:
            clean[name] = sorted_strings(rule.get(name))
        result.append(clean)
    return sorted(result, key=canonical)


def protocol(value: Any) -> str:
    """The provider stores protocol names; numbers for the common ones read back as names."""
    text = str(value if value is not None else "-1").lower()
    return {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}.get(text, text)


SECURITY_GROUP = ResourceType(
    type="aws_security_group",
    service="ec2",
    listing=Listing("describe_security_groups", "SecurityGroups", params=PAGE),
    id_field="GroupId",
    attributes=(
        Attr("name", "GroupName"),
        Attr("description", "Description"),
        Attr("vpc_id", "VpcId"),
        Attr("ingress", lambda g: security_group_rules(g.get("IpPermissions"), g["GroupId"]),
             state=normalise_rules, compare="set"),
        Attr("egress", lambda g: security_group_rules(g.get("IpPermissionsEgress"), g["GroupId"]),
             state=normalise_rules, compare="set"),
        TAGS,
    ),
    name_of=lambda g: g.get("GroupName"),
)


def _ipv6_cidr(associations: list[Mapping[str, Any]] | None) -> str | None:
    """The associated IPv6 CIDR (the provider's `ipv6_cidr_block`; "" in state when there is none)."""
    for association in associations or ():
        if association.get("Ipv6CidrBlockState", {}).get("State") in ("associated", "associating", None):
            return association.get("Ipv6CidrBlock")
    return None


VPC = ResourceType(
    type="aws_vpc",
    service="ec2",
    listing=Listing("describe_vpcs", "Vpcs", params=PAGE),
    id_field="VpcId",
    attributes=(
        Attr("cidr_block", "CidrBlock"),
        Attr("instance_tenancy", "InstanceTenancy"),
        Attr("ipv6_cidr_block", lambda v: _ipv6_cidr(v.get("Ipv6CidrBlockAssociationSet")), **OPTIONAL),
        Attr("dhcp_options_id", "DhcpOptionsId", **OPTIONAL),
        TAGS,
    ),
    name_of=name_tag,
)

SUBNET = ResourceType(
    type="aws_subnet",
    service="ec2",
    listing=Listing("describe_subnets", "Subnets", params=PAGE),
    id_field="SubnetId",
    attributes=(
        Attr("vpc_id", "VpcId"),
        Attr("cidr_block", "CidrBlock"),
        Attr("availability_zone", "AvailabilityZone"),
        Attr("map_public_ip_on_launch", "MapPublicIpOnLaunch", live=bool, state=bool),
        Attr("assign_ipv6_address_on_creation", "AssignIpv6AddressOnCreation", live=bool, state=bool),
        Attr("ipv6_cidr_block", lambda s: _ipv6_cidr(s.get("Ipv6CidrBlockAssociationSet")), **OPTIONAL),
        TAGS,
    ),
    name_of=name_tag,
)


def rule_port(value: Any) -> int | None:
    """A rule's port as the provider stores it: null when unset or -1 (all ports, protocol -1)."""
    if value in (None, ""):
        return None
    number = int(value)
    return None if number == -1 else number


SECURITY_GROUP_INGRESS_RULE = ResourceType(
    type="aws_vpc_security_group_ingress_rule",
    service="ec2",
    # Every rule of the region in one paginated listing; egress rules are never ingress resources.
    listing=Listing("describe_security_group_rules", "SecurityGroupRules", params=PAGE),
    id_field="SecurityGroupRuleId",
    exists=lambda rule: not rule.get("IsEgress"),
    attributes=(
        Attr("security_group_id", "GroupId"),
        Attr("ip_protocol", "IpProtocol", live=protocol, state=protocol),
        Attr("from_port", "FromPort", live=rule_port, state=rule_port),
        Attr("to_port", "ToPort", live=rule_port, state=rule_port),
        Attr("cidr_ipv4", "CidrIpv4", **OPTIONAL),
        Attr("cidr_ipv6", "CidrIpv6", **OPTIONAL),
        Attr("prefix_list_id", "PrefixListId", **OPTIONAL),
        Attr("referenced_security_group_id", lambda r: (r.get("ReferencedGroupInfo") or {}).get("GroupId"),
             **OPTIONAL),
        Attr("description", "Description", **OPTIONAL),
        TAGS,
    ),
)


def _instance_profile_name(profile: Mapping[str, Any] | None) -> str | None:
    """The provider stores the instance profile's name; DescribeInstances gives its ARN."""
    return last_segment((profile or {}).get("Arn"))


INSTANCE = ResourceType(
    type="aws_instance",
    service="ec2",
    listing=Listing("describe_instances", "Reservations[].Instances[]", params=PAGE),
    id_field="InstanceId",
    # The provider treats a terminated instance as gone (it lingers in DescribeInstances for a while).
    exists=lambda i: (i.get("State") or {}).get("Name") != "terminated",
    attributes=(
        Attr("ami", "ImageId"),
        Attr("instance_type", "InstanceType"),
        Attr("availability_zone", lambda i: (i.get("Placement") or {}).get("AvailabilityZone")),
        Attr("tenancy", lambda i: (i.get("Placement") or {}).get("Tenancy"), **OPTIONAL),
        Attr("subnet_id", "SubnetId", **OPTIONAL),
        Attr("private_ip", "PrivateIpAddress", **OPTIONAL),
        Attr("key_name", "KeyName", **OPTIONAL),
        Attr("vpc_security_group_ids", lambda i: [g["GroupId"] for g in i.get("SecurityGroups") or ()],
             live=sorted_strings, state=sorted_strings, compare="set"),
        Attr("iam_instance_profile", lambda i: _instance_profile_name(i.get("IamInstanceProfile")), **OPTIONAL),
        Attr("monitoring", lambda i: (i.get("Monitoring") or {}).get("State") in ("enabled", "pending"),
             state=bool),
        Attr("ebs_optimized", "EbsOptimized", live=bool, state=bool),
        Attr("source_dest_check", "SourceDestCheck", live=lambda v: v is not False, state=lambda v: v is not False),
        TAGS,
    ),
    name_of=name_tag,
)

TYPES = (VPC, SUBNET, SECURITY_GROUP, SECURITY_GROUP_INGRESS_RULE, INSTANCE)
