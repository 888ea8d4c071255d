"""Type declarations and their normalisers: live API shapes and state shapes meet in one form."""

from __future__ import annotations

import json
import urllib.parse

import boto3
import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.inventory.normalise import canonical_set, json_document, tags_from_list, to_bool, to_int
from harness.inventory.registry import RESOURCE_TYPES
from harness.inventory.types.dynamodb import secondary_indexes, table_attributes
from harness.inventory.types.ec2 import protocol, rule_port
from harness.inventory.types.s3 import encryption_rules, versioning_configuration

ISSUE_TYPES = {
    "aws_s3_bucket", "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block", "aws_vpc", "aws_subnet", "aws_security_group",
    "aws_vpc_security_group_ingress_rule", "aws_instance", "aws_iam_role", "aws_iam_policy",
    "aws_iam_role_policy_attachment", "aws_iam_user", "aws_dynamodb_table", "aws_sqs_queue", "aws_sns_topic",
    "aws_kms_key", "aws_secretsmanager_secret"}


def test_every_type_the_issue_names_is_declared():
    assert set(RESOURCE_TYPES) >= ISSUE_TYPES


@pytest.mark.parametrize("rtype", RESOURCE_TYPES.values(), ids=list(RESOURCE_TYPES))
def test_declarations_name_real_operations_and_unique_attributes(rtype):
    for service, operation in rtype.calls:
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        assert hasattr(client, operation), f"{service} has no {operation}"
    for listing in (rtype.listing, *(j.listing for j in rtype.joins)):
        jmespath.compile(listing.result_key)
    names = [a.name for a in rtype.attributes]
    assert len(names) == len(set(names))
    assert sum(a.compare == "tags" for a in rtype.attributes) <= 1


def test_s3_bucket_does_not_compare_the_deprecated_mirrors():
    names = {a.name for a in RESOURCE_TYPES["aws_s3_bucket"].attributes}
    assert not names & {"versioning", "server_side_encryption_configuration", "grant", "acl", "policy",
                        "lifecycle_rule", "logging", "website", "cors_rule", "replication_configuration"}


def test_json_documents_parse_from_text_url_encoding_or_objects():
    policy = {"Version": "2012-10-17", "Statement": []}
    text = json.dumps(policy)
    assert json_document(text) == json_document(urllib.parse.quote(text)) == json_document(policy) == policy
    assert json_document("") is json_document(None) is None
    assert json_document("not json") == "not json"


def test_reserved_aws_tags_are_not_managed():
    assert tags_from_list([{"Key": "aws:cloudformation:stack-name", "Value": "x"}, {"Key": "Team", "Value": "a"}]) \
        == {"Team": "a"}


def test_api_strings_and_state_values_meet():
    assert to_int("30") == to_int(30) == 30 and to_int("") is None
    assert to_bool("true") is to_bool(True) is True and to_bool(None) is to_bool("false") is False
    assert protocol("6") == protocol("tcp") == "tcp" and protocol(None) == "-1"
    assert rule_port(-1) is rule_port(None) is rule_port("") is None and rule_port("443") == 443


def test_versioning_reads_disabled_when_never_configured():
    assert versioning_configuration({}) == [{"status": "Disabled", "mfa_delete": ""}]
    assert versioning_configuration({"Status": "Enabled"}) == \
        versioning_configuration([{"status": "Enabled", "mfa_delete": None}])


def test_encryption_rules_from_the_api_equal_the_state_blocks():
    api = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"},
            "BucketKeyEnabled": True}]
    state = [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": "k"}],
              "bucket_key_enabled": True}]
    assert encryption_rules(api) == encryption_rules(state)
    assert encryption_rules([{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]) == encryption_rules(
        [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}],
          "bucket_key_enabled": False}])


def test_dynamodb_indexes_and_attributes_from_the_api_equal_the_state_blocks():
    api = [{"IndexName": "by-status", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["b", "a"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}}]
    state = [{"name": "by-status", "hash_key": "status", "range_key": "", "projection_type": "INCLUDE",
              "non_key_attributes": ["a", "b"], "read_capacity": 2, "write_capacity": 3}]
    assert secondary_indexes(api) == secondary_indexes(state)
    assert table_attributes([{"AttributeName": "pk", "AttributeType": "S"}]) == table_attributes(
        [{"name": "pk", "type": "S"}])


@given(st.lists(st.dictionaries(st.sampled_from("abc"), st.integers(0, 3), max_size=3), max_size=6), st.randoms())
def test_canonical_sets_are_order_free_and_idempotent(values, rng):
    shuffled = list(values)
    rng.shuffle(shuffled)
    assert canonical_set(values) == canonical_set(shuffled) == canonical_set(canonical_set(values))
