"""EC2 / VPC resource types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import canonical, sorted_strings, tags_from_list
from harness.inventory.spec import Attr, Listing, ResourceType

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
        clean = {"protocol": _protocol(rule.get("protocol")), "from_port": int(rule.get("from_port") or 0),
                 "to_port": int(rule.get("to_port") or 0), "description": rule.get("description") or "",
                 "self": bool(rule.get("self"))}
        for name in _RULE_LISTS:
            clean[name] = sorted_strings(rule.get(name))
        result.append(clean)
    return sorted(result, key=canonical)


def _protocol(value: Any) -> str:
    """The provider stores protocol names; numbers for the common ones read back as names."""
    text = str(value if value is not None else "-1").lower()
    return {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}.get(text, text)


SECURITY_GROUP = ResourceType(
    type="aws_security_group",
    service="ec2",
    listing=Listing("describe_security_groups", "SecurityGroups"),
    id_field="GroupId",
    attributes=(
        Attr("name", "GroupName"),
        Attr("description", "Description"),
        Attr("vpc_id", "VpcId"),
        Attr("ingress", lambda g: security_group_rules(g.get("IpPermissions"), g["GroupId"]),
             state=normalise_rules, compare="set"),
        Attr("egress", lambda g: security_group_rules(g.get("IpPermissionsEgress"), g["GroupId"]),
             state=normalise_rules, compare="set"),
        Attr("tags_all", lambda g: tags_from_list(g.get("Tags")), compare="tags"),
    ),
)

TYPES = (SECURITY_GROUP,)
