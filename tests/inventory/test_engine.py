"""The inventory engine against a real moto server: listings shared, details only where needed."""

from __future__ import annotations

import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.inventory.engine import LiveInventory, LiveReadError
from harness.inventory.types.ec2 import SECURITY_GROUP
from harness.inventory.types.s3 import S3_BUCKET


@pytest.fixture
def pool(moto, tmp_path):
    return SessionPool(load_config({"aws_endpoint_url": moto}, cwd=tmp_path, environ={}))


def test_s3_bucket_attributes_and_absent_tags(pool, moto):
    s3 = pool.client("s3")
    s3.create_bucket(Bucket="tagged")
    s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "Owner", "Value": "me"}]})
    s3.create_bucket(Bucket="untagged")
    inventory = LiveInventory(pool)
    assert inventory.get(S3_BUCKET, "tagged", region="us-east-1") == {"bucket": "tagged",
                                                                         "tags_all": {"Owner": "me"}}
    assert inventory.get(S3_BUCKET, "untagged", region="us-east-1") == {"bucket": "untagged", "tags_all": {}}
    assert inventory.get(S3_BUCKET, "gone", region="us-east-1") is None


def test_listing_is_made_once_and_shared(pool):
    s3 = pool.client("s3")
    for name in ("bucket-a1", "bucket-a2", "bucket-a3"):
        s3.create_bucket(Bucket=name)
    inventory = LiveInventory(pool)
    first = inventory.listing(S3_BUCKET, "us-east-1")
    s3.create_bucket(Bucket="created-later")
    assert inventory.listing(S3_BUCKET, "eu-west-1") is first     # S3 listing is global: one call
    assert "created-later" not in first


def test_security_group_rules_read_back_in_provider_form(pool):
    ec2 = pool.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="web", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    ec2.create_tags(Resources=[group], Tags=[{"Key": "Tier", "Value": "web"}])
    live = LiveInventory(pool).get(SECURITY_GROUP, group, region="us-east-1")
    assert live["name"] == "web" and live["vpc_id"] == vpc and live["tags_all"] == {"Tier": "web"}
    assert live["ingress"] == [{"protocol": "tcp", "from_port": 443, "to_port": 443, "description": "",
                                "self": False, "cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": [],
                                "prefix_list_ids": [], "security_groups": []}]


def test_unreachable_endpoint_is_a_live_read_error(tmp_path):
    # A pool pointed at a port nobody listens on: every call fails with a connection error.
    broken = SessionPool(load_config({"aws_endpoint_url": "http://127.0.0.1:9"}, cwd=tmp_path, environ={}))
    inventory = LiveInventory(broken)
    with pytest.raises(LiveReadError, match=r"s3.list_buckets failed"):
        inventory.get(S3_BUCKET, "x", region="us-east-1")
