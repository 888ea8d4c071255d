"""The unmanaged check: ownership markers, scopes, and live resources in no state (on moto)."""

from __future__ import annotations

import json

import pytest

from harness.aws.context import AwsContext
from harness.config import UnmanagedRules, load_config
from harness.drift.unmanaged import Scope, check_scope, owner_of, owns_globals, scopes_of
from harness.inventory.engine import LiveInventory, LiveResource
from harness.inventory.registry import RESOURCE_TYPES
from harness.log import Redactor
from harness.state.reader import parse_state


def test_owner_by_tag_then_by_name_prefix():
    rules = UnmanagedRules(tag_keys=("atmos_stack",), name_prefixes=("{stack}-", "legacy-"))
    stacks = ["core-ue1-prod", "core-ue1-prod-eu", "core"]
    tagged = LiveResource("id", "anything", {"atmos_stack": "core-ue1-prod"})
    assert owner_of(tagged, rules, stacks).stack == "core-ue1-prod"
    # the longest stack whose prefix matches owns it
    assert owner_of(LiveResource("id", "core-ue1-prod-eu-orders", {}), rules, stacks).stack == "core-ue1-prod-eu"
    plain = owner_of(LiveResource("id", "legacy-queue", {}), rules, stacks)
    assert plain.stack is None and plain.marker == "name prefix legacy-"
    assert owner_of(LiveResource("id", "someone-else", {"Team": "x"}), rules, stacks) is None
    assert not UnmanagedRules().enabled


class _Instance:
    def __init__(self, account, region):
        self.account_id, self.region, self.role_arn = account, region, None


def test_scopes_are_sorted_unique_and_globals_go_to_each_accounts_first():
    scopes = scopes_of([_Instance(None, "us-west-2"), _Instance("111111111111", "eu-west-1"),
                        _Instance(None, None), _Instance(None, "us-west-2")], "us-east-1")
    assert [s.id for s in scopes] == ["111111111111/eu-west-1", "default/us-east-1", "default/us-west-2"]
    assert [owns_globals(s, scopes) for s in scopes] == [True, True, False]


def state_with(*resources):
    return parse_state(json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "l",
                                   "resources": [{"mode": "managed", "type": t, "name": "x", "provider": "p",
                                                  "instances": [{"attributes": a}]} for t, a in resources]}),
                       source="test")


@pytest.fixture
def inventory(moto, tmp_path):
    config = load_config({"aws_endpoint_url": moto}, cwd=tmp_path, environ={})
    return LiveInventory(AwsContext.from_config(config, redactor=Redactor()))


def test_marked_resources_in_no_state_are_unmanaged_and_belong_to_the_tagged_stack(inventory, raw):
    sqs, s3, iam = raw("sqs"), raw("s3"), raw("iam")
    managed = sqs.create_queue(QueueName="managed", tags={"atmos_stack": "prod"})["QueueUrl"]
    sqs.create_queue(QueueName="stray", tags={"atmos_stack": "prod"})
    sqs.create_queue(QueueName="not-ours")
    s3.create_bucket(Bucket="stray-bucket")
    s3.put_bucket_tagging(Bucket="stray-bucket", Tagging={"TagSet": [{"Key": "atmos_stack", "Value": "dev"}]})
    s3.put_bucket_versioning(Bucket="stray-bucket", VersioningConfiguration={"Status": "Enabled"})
    iam.create_user(UserName="stray-user", Tags=[{"Key": "atmos_stack", "Value": "prod"}])
    state = state_with(("aws_sqs_queue", {"id": managed}))
    rules = UnmanagedRules(tag_keys=("atmos_stack",))

    def run(include_global):
        return check_scope(Scope(None, "us-east-1"), inventory, RESOURCE_TYPES, rules, regional_states=[state],
                           account_states=[state], stacks=["prod", "dev"], include_global=include_global,
                           stack_context=lambda stack: {"environment_type": stack, "severity": "fail"})

    result = run(include_global=True)
    found = {(f.address, f.stack, f.instance, f.environment_type) for f in result.findings}
    assert found == {("aws_sqs_queue.stray", "prod", None, "prod"), ("aws_s3_bucket.stray-bucket", "dev", None, "dev"),
                     ("aws_iam_user.stray-user", "prod", None, "prod")}
    assert {f.kind for f in result.findings} == {"unmanaged"} and not result.errors
    assert "aws_s3_bucket_versioning" not in result.types_checked   # sub-resources are never unmanaged alone
    regional_only = run(include_global=False)
    assert {f.address for f in regional_only.findings} == {"aws_sqs_queue.stray"}


def test_a_failed_listing_is_an_error_of_the_scope_not_a_clean_result(tmp_path):
    fast = {"default": {"retry": {"base": 0.01, "cap": 0.02, "max_attempts": 1}}}
    config = load_config({"aws_endpoint_url": "http://127.0.0.1:9", "profiles": fast}, cwd=tmp_path, environ={})
    inventory = LiveInventory(AwsContext.from_config(config, redactor=Redactor()))
    one_type = {"aws_sqs_queue": RESOURCE_TYPES["aws_sqs_queue"]}
    result = check_scope(Scope(None, "us-east-1"), inventory, one_type, UnmanagedRules(tag_keys=("k",)),
                         regional_states=[], account_states=[], stacks=[], include_global=True,
                         stack_context=lambda stack: {})
    assert not result.findings and result.errors and "aws_sqs_queue" in result.errors[0].message
