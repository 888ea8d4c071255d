"""EC2 / VPC resources: creation as provider v5 does it, and out-of-band changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.emulate.common import Creator, Mutation, Target, changes, split_tags, tag_list, tagged
from harness.inventory.types.ec2 import normalise_rules, protocol


def _tag_specifications(resource_type: str, tags_all: Mapping[str, str]) -> dict[str, Any]:
    return {"TagSpecifications": [{"ResourceType": resource_type, "Tags": tag_list(tags_all)}]} if tags_all else {}


def create_vpc(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    tenancy = args.get("instance_tenancy", "default")
    vpc = target.client("ec2").create_vpc(CidrBlock=args["cidr_block"], InstanceTenancy=tenancy,
                                          **_tag_specifications("vpc", tags_all))["Vpc"]
    # Computed ids the provider reads with further calls (main route table, default NACL and security
    # group) are not compared and are left null here.
    return tagged({
        "id": vpc["VpcId"], "arn": target.arn("ec2", f"vpc/{vpc['VpcId']}"), "cidr_block": args["cidr_block"],
        "instance_tenancy": tenancy, "enable_dns_support": True, "enable_dns_hostnames": False,
        "enable_network_address_usage_metrics": False, "assign_generated_ipv6_cidr_block": False,
        "ipv6_cidr_block": "", "ipv6_association_id": "", "ipv6_cidr_block_network_border_group": "",
        "ipv6_ipam_pool_id": "", "ipv6_netmask_length": 0, "ipv4_ipam_pool_id": None, "ipv4_netmask_length": None,
        "dhcp_options_id": vpc.get("DhcpOptionsId", ""), "main_route_table_id": None,
        "default_network_acl_id": None, "default_route_table_id": None, "default_security_group_id": None,
        "owner_id": target.account_id,
    }, tags, tags_all)


def create_subnet(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    ec2 = target.client("ec2")
    tags, tags_all = split_tags(target, args)
    zone = {"AvailabilityZone": args["availability_zone"]} if args.get("availability_zone") else {}
    subnet = ec2.create_subnet(VpcId=args["vpc_id"], CidrBlock=args["cidr_block"], **zone,
                               **_tag_specifications("subnet", tags_all))["Subnet"]
    public = bool(args.get("map_public_ip_on_launch", False))
    if public:
        ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    return tagged({
        "id": subnet["SubnetId"], "arn": target.arn("ec2", f"subnet/{subnet['SubnetId']}"),
        "vpc_id": args["vpc_id"], "cidr_block": args["cidr_block"],
        "availability_zone": subnet["AvailabilityZone"], "availability_zone_id": subnet.get("AvailabilityZoneId", ""),
        "map_public_ip_on_launch": public, "assign_ipv6_address_on_creation": False, "ipv6_cidr_block": "",
        "ipv6_cidr_block_association_id": "", "ipv6_native": False, "enable_dns64": False,
        "enable_resource_name_dns_a_record_on_launch": False,
        "enable_resource_name_dns_aaaa_record_on_launch": False, "private_dns_hostname_type_on_launch": "ip-name",
        "customer_owned_ipv4_pool": "", "map_customer_owned_ip_on_launch": False, "outpost_arn": "",
        "enable_lni_at_device_index": 0, "owner_id": target.account_id, "timeouts": None,
    }, tags, tags_all)


def permissions(rules: Any) -> list[dict[str, Any]]:
    """Inline security group rules (Terraform form) -> EC2 `IpPermissions`."""
    result = []
    for rule in rules or ():
        permission: dict[str, Any] = {"IpProtocol": str(rule.get("protocol", "-1"))}
        if permission["IpProtocol"] != "-1":
            permission["FromPort"], permission["ToPort"] = int(rule["from_port"]), int(rule["to_port"])
        description = {"Description": rule["description"]} if rule.get("description") else {}
        permission["IpRanges"] = [{"CidrIp": c, **description} for c in rule.get("cidr_blocks", ())]
        permission["Ipv6Ranges"] = [{"CidrIpv6": c, **description} for c in rule.get("ipv6_cidr_blocks", ())]
        result.append(permission)
    return result


def create_security_group(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    ec2 = target.client("ec2")
    vpc_id = args.get("vpc_id") or ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])[
        "Vpcs"][0]["VpcId"]
    description = args.get("description") or "Managed by Terraform"
    tags, tags_all = split_tags(target, args)
    group_id = ec2.create_security_group(GroupName=args["name"], Description=description, VpcId=vpc_id,
                                         **_tag_specifications("security-group", tags_all))["GroupId"]
    # Like the provider: drop AWS's default allow-all egress, then authorise exactly what is configured.
    default_egress = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["IpPermissionsEgress"]
    if default_egress:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=default_egress)
    if args.get("ingress"):
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions(args["ingress"]))
    if args.get("egress"):
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=permissions(args["egress"]))
    return tagged({
        "id": group_id, "arn": target.arn("ec2", f"security-group/{group_id}"),
        "name": args["name"], "name_prefix": "", "description": description, "vpc_id": vpc_id,
        "owner_id": target.account_id, "revoke_rules_on_delete": False,
        "ingress": normalise_rules(args.get("ingress")), "egress": normalise_rules(args.get("egress")),
        "timeouts": None,
    }, tags, tags_all)


def _rule_permission(args: Mapping[str, Any]) -> dict[str, Any]:
    permission: dict[str, Any] = {"IpProtocol": protocol(args.get("ip_protocol"))}
    if args.get("from_port") is not None:
        permission["FromPort"] = int(args["from_port"])
    if args.get("to_port") is not None:
        permission["ToPort"] = int(args["to_port"])
    description = {"Description": args["description"]} if args.get("description") else {}
    if args.get("cidr_ipv4"):
        permission["IpRanges"] = [{"CidrIp": args["cidr_ipv4"], **description}]
    if args.get("cidr_ipv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": args["cidr_ipv6"], **description}]
    if args.get("prefix_list_id"):
        permission["PrefixListIds"] = [{"PrefixListId": args["prefix_list_id"], **description}]
    if args.get("referenced_security_group_id"):
        permission["UserIdGroupPairs"] = [{"GroupId": args["referenced_security_group_id"], **description}]
    return permission


def create_ingress_rule(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    response = target.client("ec2").authorize_security_group_ingress(
        GroupId=args["security_group_id"], IpPermissions=[_rule_permission(args)],
        **_tag_specifications("security-group-rule", tags_all))
    rule_id = response["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    # A framework resource: unset optional attributes are null in state, not "".
    return tagged({
        "id": rule_id, "security_group_rule_id": rule_id, "arn": target.arn("ec2", f"security-group-rule/{rule_id}"),
        "security_group_id": args["security_group_id"], "ip_protocol": protocol(args.get("ip_protocol")),
        "from_port": args.get("from_port"), "to_port": args.get("to_port"),
        **{name: args.get(name) for name in ("cidr_ipv4", "cidr_ipv6", "description", "prefix_list_id",
                                             "referenced_security_group_id")},
    }, tags, tags_all)


def create_instance(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    options: dict[str, Any] = {}
    if args.get("subnet_id"):
        options["SubnetId"] = args["subnet_id"]
    if args.get("vpc_security_group_ids"):
        options["SecurityGroupIds"] = list(args["vpc_security_group_ids"])
    if args.get("key_name"):
        options["KeyName"] = args["key_name"]
    monitoring = bool(args.get("monitoring", False))
    instance = target.client("ec2").run_instances(
        ImageId=args["ami"], InstanceType=args["instance_type"], MinCount=1, MaxCount=1,
        Monitoring={"Enabled": monitoring}, EbsOptimized=bool(args.get("ebs_optimized", False)),
        **options, **_tag_specifications("instance", tags_all))["Instances"][0]
    instance_id = instance["InstanceId"]
    return tagged({
        "id": instance_id, "arn": target.arn("ec2", f"instance/{instance_id}"), "ami": args["ami"],
        "instance_type": args["instance_type"], "availability_zone": instance["Placement"]["AvailabilityZone"],
        "tenancy": instance["Placement"].get("Tenancy", "default"), "subnet_id": instance.get("SubnetId", ""),
        "private_ip": instance.get("PrivateIpAddress", ""), "key_name": args.get("key_name", ""),
        "vpc_security_group_ids": sorted(args.get("vpc_security_group_ids") or
                                         [g["GroupId"] for g in instance.get("SecurityGroups") or ()]),
        "security_groups": [], "iam_instance_profile": "", "monitoring": monitoring,
        "ebs_optimized": bool(args.get("ebs_optimized", False)), "source_dest_check": True,
        "associate_public_ip_address": False, "disable_api_termination": False, "disable_api_stop": False,
        "instance_initiated_shutdown_behavior": "stop", "instance_state": "running", "user_data": None,
        "user_data_replace_on_change": False, "get_password_data": False, "hibernation": False,
        "placement_group": "", "placement_partition_number": 0, "host_id": "", "public_ip": "", "public_dns": "",
        "primary_network_interface_id": "", "private_dns": "", "outpost_arn": "", "password_data": "",
        "cpu_core_count": None, "cpu_threads_per_core": None, "secondary_private_ips": [], "ipv6_addresses": [],
        "ipv6_address_count": 0, "timeouts": None, "volume_tags": None,
    }, tags, tags_all)


def refresh_group_with_rule(rule: Mapping[str, Any], created: Mapping[str, dict[str, Any]]) -> None:
    """What the next refresh writes: the group's `ingress` lists the rules of separate rule resources too.

    The provider reads a security group's rules from the API whatever manages them, so once a
    plan or apply has refreshed, `aws_security_group.ingress` holds this rule as well.
    """
    for attrs in created.values():
        if attrs.get("id") == rule["security_group_id"] and "ingress" in attrs:
            as_inline = {"protocol": rule["ip_protocol"], "from_port": rule.get("from_port") or 0,
                         "to_port": rule.get("to_port") or 0, "description": rule.get("description") or "",
                         "cidr_blocks": [rule["cidr_ipv4"]] if rule.get("cidr_ipv4") else [],
                         "ipv6_cidr_blocks": [rule["cidr_ipv6"]] if rule.get("cidr_ipv6") else [],
                         "prefix_list_ids": [rule["prefix_list_id"]] if rule.get("prefix_list_id") else [],
                         "security_groups": ([rule["referenced_security_group_id"]]
                                             if rule.get("referenced_security_group_id") else [])}
            attrs["ingress"] = normalise_rules([*attrs["ingress"], as_inline])


# -- out-of-band changes -------------------------------------------------------------------------------

def set_tags(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").create_tags(Resources=[attrs["id"]], Tags=tag_list(params["tags"]))


def remove_tag(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").delete_tags(Resources=[attrs["id"]], Tags=[{"Key": params["key"]}])


def add_ingress_rule(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").authorize_security_group_ingress(GroupId=attrs["id"],
                                                          IpPermissions=permissions([params["rule"]]))


def _deleter(operation: str, key: str) -> Mutation:
    def delete(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        getattr(target.client("ec2"), operation)(**{key: attrs["id"]})
    return delete


def revoke_ingress_rule(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").revoke_security_group_ingress(GroupId=attrs["security_group_id"],
                                                       SecurityGroupRuleIds=[attrs["id"]])


def terminate_instance(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("ec2").terminate_instances(InstanceIds=[attrs["id"]])


def change_subnet(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute != "map_public_ip_on_launch":
        raise ValueError(f"cannot change {attribute!r} of a subnet (supported: map_public_ip_on_launch)")
    target.client("ec2").modify_subnet_attribute(SubnetId=attrs["id"], MapPublicIpOnLaunch={"Value": bool(value)})


def change_instance(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute != "instance_type":
        raise ValueError(f"cannot change {attribute!r} of an instance (supported: instance_type)")
    ec2 = target.client("ec2")
    ec2.stop_instances(InstanceIds=[attrs["id"]])   # the console way: stop, change the type, start
    ec2.modify_instance_attribute(InstanceId=attrs["id"], InstanceType={"Value": str(value)})
    ec2.start_instances(InstanceIds=[attrs["id"]])


def change_ingress_rule(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    allowed = ("cidr_ipv4", "description", "from_port", "to_port")
    if attribute not in allowed:
        raise ValueError(f"cannot change {attribute!r} of an ingress rule (supported: {', '.join(allowed)})")
    rule = {"IpProtocol": protocol(attrs.get("ip_protocol")), "FromPort": attrs.get("from_port"),
            "ToPort": attrs.get("to_port"), "CidrIpv4": attrs.get("cidr_ipv4"), "Description": attrs.get("description")}
    rule[{"cidr_ipv4": "CidrIpv4", "description": "Description", "from_port": "FromPort",
          "to_port": "ToPort"}[attribute]] = value
    target.client("ec2").modify_security_group_rules(
        GroupId=attrs["security_group_id"],
        SecurityGroupRules=[{"SecurityGroupRuleId": attrs["id"],
                             "SecurityGroupRule": {k: v for k, v in rule.items() if v is not None}}])


CREATORS: dict[str, Creator] = {
    "aws_vpc": create_vpc,
    "aws_subnet": create_subnet,
    "aws_security_group": create_security_group,
    "aws_vpc_security_group_ingress_rule": create_ingress_rule,
    "aws_instance": create_instance,
}

# type -> what a refresh after creating it changes in other resources of the state
REFRESHES = {"aws_vpc_security_group_ingress_rule": refresh_group_with_rule}

MUTATIONS: dict[tuple[str, str], Mutation] = {
    **{(op, t): f for t in CREATORS for op, f in (("set_tags", set_tags), ("remove_tag", remove_tag))},
    ("delete_resource", "aws_vpc"): _deleter("delete_vpc", "VpcId"),
    ("delete_resource", "aws_subnet"): _deleter("delete_subnet", "SubnetId"),
    ("delete_resource", "aws_security_group"): _deleter("delete_security_group", "GroupId"),
    ("delete_resource", "aws_vpc_security_group_ingress_rule"): revoke_ingress_rule,
    ("delete_resource", "aws_instance"): terminate_instance,
    ("add_ingress_rule", "aws_security_group"): add_ingress_rule,
    ("change_attribute", "aws_subnet"): change_subnet,
    ("change_attribute", "aws_instance"): change_instance,
    ("change_attribute", "aws_vpc_security_group_ingress_rule"): change_ingress_rule,
}
