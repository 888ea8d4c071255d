"""AWS calls per checked resource, by resource type: stackharness's batched readers vs Terraform's provider.

For each of the 18 supported types, provisions N resources (default 500) on an embedded moto server
with the emulator's creators, then reads them all with a fresh `LiveInventory` (as a drift check
does) and divides the API meter's count by N. The Terraform column is the per-resource read-call
count of the AWS provider v5 (see docs/performance.md for the provider source of each figure).
Targets: batchable types (EC2, VPC, security groups, subnets, IAM list-able attributes) < 0.1;
S3 buckets <= 3. Figures taken on a shared machine; moto answers in ~ms, so time is not reported.
Run: `.venv/bin/python benchmarks/bench_api.py [--per-type 500] [--types aws_vpc,aws_subnet]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from harness.aws.context import AwsContext
from harness.aws.target import AwsTarget
from harness.config import load_config
from harness.embedded import DUMMY_CREDENTIALS, embedded_moto, reset_moto
from harness.emulate.common import Target
from harness.emulate.resources import CREATORS
from harness.inventory.engine import LiveInventory
from harness.inventory.registry import RESOURCE_TYPES
from harness.log import Redactor

REGION = "us-east-1"
# Read calls per resource in the AWS provider v5's Read function (docs/performance.md has the sources).
TERRAFORM = {
    "aws_s3_bucket": 15, "aws_s3_bucket_versioning": 1, "aws_s3_bucket_server_side_encryption_configuration": 1,
    "aws_s3_bucket_public_access_block": 1, "aws_vpc": 7, "aws_subnet": 1, "aws_security_group": 1,
    "aws_vpc_security_group_ingress_rule": 1, "aws_instance": 9, "aws_iam_role": 3, "aws_iam_policy": 2,
    "aws_iam_role_policy_attachment": 1, "aws_iam_user": 1, "aws_dynamodb_table": 4, "aws_sqs_queue": 2,
    "aws_sns_topic": 2, "aws_kms_key": 4, "aws_secretsmanager_secret": 2,
}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ec2.amazonaws.com"}}]}
DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TAGS = {"tags": {"Team": "bench"}}

Args = Callable[[Target, int], Mapping[str, Any]]


def _bucket(target: Target, i: int) -> str:
    return CREATORS["aws_s3_bucket"](target, {"bucket": f"bench-parent-{i:04d}"})["id"]


def _group(target: Target, i: int) -> str:
    vpc = _vpc(target)
    return _shared(target, f"sg{i // 50}", lambda: CREATORS["aws_security_group"](
        target, {"name": f"bench-rules-{i // 50}", "vpc_id": vpc})["id"])


def _vpc(target: Target) -> str:
    return _shared(target, "vpc", lambda: CREATORS["aws_vpc"](target, {"cidr_block": "10.0.0.0/16"})["id"])


_SHARED: dict[str, str] = {}


def _shared(target: Target, key: str, make: Callable[[], str]) -> str:
    if key not in _SHARED:
        _SHARED[key] = make()
    return _SHARED[key]


def _attachment(target: Target, i: int) -> Mapping[str, Any]:
    role = _shared(target, f"role{i // 10}", lambda: CREATORS["aws_iam_role"](
        target, {"name": f"bench-role-{i // 10}", "assume_role_policy": TRUST})["name"])
    policy = CREATORS["aws_iam_policy"](target, {"name": f"bench-attached-{i}", "policy": DOCUMENT})["arn"]
    return {"role": role, "policy_arn": policy}


ARGUMENTS: dict[str, Args] = {
    "aws_s3_bucket": lambda t, i: {"bucket": f"bench-bucket-{i:04d}", **TAGS},
    "aws_s3_bucket_versioning": lambda t, i: {"bucket": _bucket(t, i),
                                              "versioning_configuration": {"status": "Enabled"}},
    "aws_s3_bucket_server_side_encryption_configuration": lambda t, i: {"bucket": _bucket(t, i)},
    "aws_s3_bucket_public_access_block": lambda t, i: {"bucket": _bucket(t, i), "block_public_acls": True},
    "aws_vpc": lambda t, i: {"cidr_block": f"10.{i // 250}.{i % 250}.0/24", **TAGS},
    "aws_subnet": lambda t, i: {"vpc_id": _vpc(t), "cidr_block": f"10.0.{i // 4}.{(i % 4) * 64}/26", **TAGS},
    "aws_security_group": lambda t, i: {"name": f"bench-sg-{i}", "vpc_id": _vpc(t), **TAGS,
                                        "ingress": [{"protocol": "tcp", "from_port": 443, "to_port": 443,
                                                     "cidr_blocks": ["10.0.0.0/8"]}]},
    "aws_vpc_security_group_ingress_rule": lambda t, i: {"security_group_id": _group(t, i), "ip_protocol": "tcp",
                                                         "from_port": 1000 + i, "to_port": 1000 + i,
                                                         "cidr_ipv4": "10.0.0.0/8"},
    "aws_instance": lambda t, i: {"ami": "ami-12c6146b", "instance_type": "t3.micro", **TAGS},
    "aws_iam_role": lambda t, i: {"name": f"bench-role-x{i}", "assume_role_policy": TRUST, **TAGS},
    "aws_iam_policy": lambda t, i: {"name": f"bench-policy-{i}", "policy": DOCUMENT, **TAGS},
    "aws_iam_role_policy_attachment": _attachment,
    "aws_iam_user": lambda t, i: {"name": f"bench-user-{i}", **TAGS},
    "aws_dynamodb_table": lambda t, i: {"name": f"bench-table-{i}", "billing_mode": "PAY_PER_REQUEST", "hash_key": "pk",
                                        "attribute": [{"name": "pk", "type": "S"}], **TAGS},
    "aws_sqs_queue": lambda t, i: {"name": f"bench-queue-{i}", **TAGS},
    "aws_sns_topic": lambda t, i: {"name": f"bench-topic-{i}", **TAGS},
    "aws_kms_key": lambda t, i: {"description": f"bench key {i}", **TAGS},
    "aws_secretsmanager_secret": lambda t, i: {"name": f"bench/secret-{i}", **TAGS},
}


def measure(endpoint: str, type_name: str, count: int) -> dict[str, Any]:
    """Provision `count` resources of a type, then read them as a drift check does; calls per resource."""
    reset_moto(endpoint)
    _SHARED.clear()
    target = Target(client=lambda service: boto3.client(service, region_name=REGION, endpoint_url=endpoint),
                    region=REGION, account_id="123456789012", default_tags={})
    rtype = RESOURCE_TYPES[type_name]
    states = [CREATORS[type_name](target, ARGUMENTS[type_name](target, i)) for i in range(count)]
    config = load_config({"aws_endpoint_url": endpoint}, environ={})
    aws = AwsContext.from_config(config, redactor=Redactor())
    reads = LiveInventory(aws).get_many(rtype, [rtype.state_id(s) or "" for s in states],
                                        target=AwsTarget(region=REGION))
    found = sum(1 for value in reads.values() if isinstance(value, dict))
    summary = aws.meter.summary()
    return {"type": type_name, "resources": count, "found": found, "calls": summary["total"],
            "per_resource": summary["total"] / count, "terraform": TERRAFORM[type_name],
            "by_operation": summary["by_operation"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=500)
    parser.add_argument("--types", default=",".join(RESOURCE_TYPES))
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows = []
    with embedded_moto() as endpoint:
        for type_name in args.types.split(","):
            rows.append(measure(endpoint, type_name, args.per_type))
            row = rows[-1]
            print(f"{row['type']:<52} {row['per_resource']:>7.3f} calls/resource  (terraform {row['terraform']}; "
                  f"{row['calls']} calls for {row['resources']}, {row['found']} found: "
                  + ", ".join(f"{op} {n}" for op, n in row["by_operation"].items()) + ")", flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
