"""The inventory engine against a real moto server: listings shared, details only where needed."""

from __future__ import annotations

import json

import pytest

from harness.aws.context import AwsContext
from harness.aws.target import AwsTarget
from harness.config import load_config
from harness.inventory.engine import LiveInventory, LiveReadError
from harness.inventory.types.ec2 import INSTANCE, SECURITY_GROUP
from harness.inventory.types.iam import IAM_POLICY, IAM_ROLE, IAM_ROLE_POLICY_ATTACHMENT, IAM_USER
from harness.inventory.types.kms import KMS_KEY
from harness.inventory.types.s3 import S3_BUCKET, S3_BUCKET_PUBLIC_ACCESS_BLOCK
from harness.inventory.types.sqs import SQS_QUEUE
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
    assert inventory.get(S3_BUCKET, "tagged", target=HERE) == {"bucket": "tagged", "object_lock_enabled": False,
                                                                "tags_all": {"Owner": "me"}}
    assert inventory.get(S3_BUCKET, "untagged", target=HERE) == {"bucket": "untagged", "object_lock_enabled": False,
                                                                  "tags_all": {}}
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


def test_iam_types_share_one_authorization_details_listing_and_join_list_roles(aws, raw):
    iam = raw("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "ec2.amazonaws.com"}}]}
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(trust), Description="runs the app",
                    MaxSessionDuration=7200, Tags=[{"Key": "Team", "Value": "a"}])
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    iam.create_user(UserName="ci", Tags=[{"Key": "Team", "Value": "b"}])
    inventory = LiveInventory(aws)
    role = inventory.get(IAM_ROLE, "app", target=HERE)
    assert role["description"] == "runs the app" and role["max_session_duration"] == 7200
    assert role["assume_role_policy"] == trust and role["tags_all"] == {"Team": "a"}
    assert inventory.get(IAM_ROLE_POLICY_ATTACHMENT, f"app/{arn}", target=HERE) == {"role": "app", "policy_arn": arn}
    assert inventory.get(IAM_ROLE_POLICY_ATTACHMENT, f"other/{arn}", target=HERE) is None
    assert inventory.get(IAM_USER, "ci", target=HERE)["tags_all"] == {"Team": "b"}
    assert inventory.get(IAM_POLICY, arn, target=AwsTarget(region="eu-west-1"))["name"] == "read"
    assert aws.meter.count("iam.GetAccountAuthorizationDetails") == 1
    assert aws.meter.count("iam.ListRoles") == 1


def test_a_detail_saying_the_configuration_is_gone_makes_the_resource_missing(aws, raw):
    s3 = raw("s3")
    s3.create_bucket(Bucket="guarded")
    s3.put_public_access_block(Bucket="guarded", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True})
    assert LiveInventory(aws).get(S3_BUCKET_PUBLIC_ACCESS_BLOCK, "guarded", target=HERE)["block_public_acls"] is True
    s3.delete_public_access_block(Bucket="guarded")
    fresh = AwsContext.from_config(aws.config, redactor=Redactor())
    assert LiveInventory(fresh).get(S3_BUCKET_PUBLIC_ACCESS_BLOCK, "guarded", target=HERE) is None


def test_resources_the_provider_treats_as_gone_are_missing(aws, raw):
    ec2, kms = raw("ec2"), raw("kms")
    instance = ec2.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=1, MaxCount=1)[
        "Instances"][0]["InstanceId"]
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ec2.terminate_instances(InstanceIds=[instance])
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    inventory = LiveInventory(aws)
    assert instance in inventory.listing(INSTANCE, HERE)       # still listed by EC2 ...
    assert inventory.get(INSTANCE, instance, target=HERE) is None   # ... but gone for Terraform
    assert inventory.get(KMS_KEY, key, target=HERE) is None


def test_detail_calls_only_for_the_resources_asked_for(aws, raw):
    sqs = raw("sqs")
    urls = [sqs.create_queue(QueueName=f"q{i}")["QueueUrl"] for i in range(5)]
    reads = LiveInventory(aws).get_many(SQS_QUEUE, urls[:2], target=HERE)
    assert [reads[u]["name"] for u in urls[:2]] == ["q0", "q1"]
    assert aws.meter.count("sqs.ListQueues") == 1 and aws.meter.count("sqs.GetQueueAttributes") == 2
    assert aws.meter.count("resourcegroupstaggingapi.GetResources") == 1   # every queue's tags at once


def test_unknown_resources_read_only_the_details_that_decide_ownership(aws, raw):
    s3, kms = raw("s3"), raw("kms")
    for name in ("managed-bucket", "stray-a", "stray-b"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket="stray-a", Tagging={"TagSet": [{"Key": "atmos_stack", "Value": "prod"}]})
    inventory = LiveInventory(aws)
    found = inventory.unknown(S3_BUCKET, HERE, ["managed-bucket"], with_tags=True)
    assert [(r.name, dict(r.tags)) for r in found] == [("stray-a", {"atmos_stack": "prod"}), ("stray-b", {})]
    # the tags decide ownership; object lock settings do not, and are not read
    assert aws.meter.count("s3.GetBucketTagging") == 2 and aws.meter.count("s3.GetObjectLockConfiguration") == 0
    names_only = LiveInventory(AwsContext.from_config(aws.config, redactor=Redactor()))
    assert [r.name for r in names_only.unknown(S3_BUCKET, HERE, ["managed-bucket"], with_tags=False)] == [
        "stray-a", "stray-b"]
    # keys scheduled for deletion are gone for Terraform, and for the unmanaged check too
    doomed = kms.create_key(Tags=[{"TagKey": "atmos_stack", "TagValue": "prod"}])["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    kept = kms.create_key(Tags=[{"TagKey": "atmos_stack", "TagValue": "prod"}])["KeyMetadata"]["KeyId"]
    assert [(r.id, dict(r.tags)) for r in inventory.unknown(KMS_KEY, HERE, [], with_tags=True)] == [
        (kept, {"atmos_stack": "prod"})]


def test_a_failed_detail_call_fails_only_its_resource(aws, raw):
    s3 = raw("s3")
    for name in ("fine-bucket", "doomed-bucket"):
        s3.create_bucket(Bucket=name)
    inventory = LiveInventory(aws)
    inventory.listing(S3_BUCKET, HERE)
    s3.delete_bucket(Bucket="doomed-bucket")   # gone between the listing and the detail call
    reads = inventory.get_many(S3_BUCKET, ["fine-bucket", "doomed-bucket"], target=HERE)
    assert reads["fine-bucket"]["bucket"] == "fine-bucket"
    assert reads["doomed-bucket"] is None      # NoSuchBucket on a detail call: missing, not an error
