"""The inventory engine against a real moto server: listings shared, details only where needed."""

from __future__ import annotations

import pytest

from harness.aws.context import AwsContext
from harness.aws.target import AwsTarget
from harness.config import load_config
from harness.inventory.engine import LiveInventory, LiveReadError
from harness.inventory.types.ec2 import SECURITY_GROUP
from harness.inventory.types.s3 import S3_BUCKET
from harness.log import Redactor


@pytest.fixture
def aws(moto, tmp_path):
    config = load_config({"aws_endpoint_url": moto}, cwd=tmp_path, environ={})
    return AwsContext.from_config(config, redactor=Redactor())


HERE = AwsTarget(region="us-east-1")


def test_s3_bucket_attributes_and_absent_tags(aws, raw):
    s3 = raw("s3")
    s3.create_bucket(Bucket="tagged")
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "Owner", "Value": "me"}]})
    s3.create_bucket(Bucket="untagged")
    inventory = LiveInventory(aws)
    assert inventory.get(S3_BUCKET, "tagged", target=HERE) == {"bucket": "tagged", "tags_all": {"Owner": "me"}}
    assert inventory.get(S3_BUCKET, "untagged", target=HERE) == {"bucket": "untagged", "tags_all": {}}
    assert inventory.get(S3_BUCKET, "gone", target=HERE) is None
    assert aws.meter.count("s3.ListBuckets") == 1


def test_listing_is_made_once_and_shared(aws, raw):
    s3 = raw("s3")
    for name in ("bucket-a1", "bucket-a2", "bucket-a3"):
        s3.create_bucket(Bucket=name)
    inventory = LiveInventory(aws)
    first = inventory.listing(S3_BUCKET, HERE)
    s3.create_bucket(Bucket="created-later")
    assert inventory.listing(S3_BUCKET, AwsTarget(region="eu-west-1")) is first  # S3 listing is global
    assert "created-later" not in first
    assert aws.meter.count("s3.ListBuckets") == 1


def test_security_group_rules_read_back_in_provider_form(aws, raw):
    ec2 = raw("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="web", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    ec2.create_tags(Resources=[group], Tags=[{"Key": "Tier", "Value": "web"}])
    live = LiveInventory(aws).get(SECURITY_GROUP, group, target=HERE)
    assert live["name"] == "web" and live["vpc_id"] == vpc and live["tags_all"] == {"Tier": "web"}
    assert live["ingress"] == [{"protocol": "tcp", "from_port": 443, "to_port": 443, "description": "",
                                "self": False, "cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": [],
                                "prefix_list_ids": [], "security_groups": []}]


def test_unreachable_endpoint_is_a_live_read_error(tmp_path):
    # A pool pointed at a port nobody listens on: every call fails with a connection error.
    fast = {"default": {"retry": {"base": 0.01, "cap": 0.02, "max_attempts": 2}}}
    config = load_config({"aws_endpoint_url": "http://127.0.0.1:9", "profiles": fast}, cwd=tmp_path, environ={})
    inventory = LiveInventory(AwsContext.from_config(config, redactor=Redactor()))
    with pytest.raises(LiveReadError, match=r"s3.list_buckets failed"):
        inventory.get(S3_BUCKET, "x", target=HERE)


def test_budget_exhaustion_is_a_read_error_not_a_clean_result(moto, raw, tmp_path):
    raw("s3").create_bucket(Bucket="budgeted")
    config = load_config({"aws_endpoint_url": moto, "api_budget": 0}, cwd=tmp_path, environ={})
    inventory = LiveInventory(AwsContext.from_config(config, redactor=Redactor()))
    with pytest.raises(LiveReadError, match="not made"):
        inventory.get(S3_BUCKET, "budgeted", target=HERE)
