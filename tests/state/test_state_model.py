"""State reader: v4 parsing, addresses, sensitive values registered, clear errors."""

from __future__ import annotations

import json

import boto3
import pytest

from harness.errors import StateError
from harness.log import Redactor
from harness.state.reader import parse_state, read_state

STATE = {
    "version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "abc",
    "outputs": {"db_password": {"value": "canary-output-secret", "type": "string", "sensitive": True},
                "name": {"value": "plain", "type": "string"}},
    "resources": [
        {"mode": "managed", "type": "aws_s3_bucket", "name": "this", "provider": "p",
         "instances": [{"schema_version": 0, "attributes": {"id": "b1", "tags": {"k": "v"}}}]},
        {"module": "module.net", "mode": "managed", "type": "aws_subnet", "name": "this", "each": "map",
         "provider": "p", "instances": [
             {"index_key": "a", "schema_version": 1, "attributes": {"id": "subnet-1"}},
             {"index_key": "b", "schema_version": 1, "attributes": {"id": "subnet-2"}}]},
        {"mode": "managed", "type": "aws_db_instance", "name": "db", "each": "list", "provider": "p",
         "instances": [{"index_key": 0, "attributes": {"id": "db-1", "password": "canary-attr-secret"},
                        "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]},
        {"mode": "data", "type": "aws_caller_identity", "name": "current", "provider": "p",
         "instances": [{"attributes": {"id": "123"}}]},
    ],
}


def test_parses_addresses_modes_and_header():
    state = parse_state(json.dumps(STATE), source="mem")
    assert [r.address for r in state.resources] == [
        "aws_s3_bucket.this", 'module.net.aws_subnet.this["a"]', 'module.net.aws_subnet.this["b"]',
        "aws_db_instance.db[0]", "data.aws_caller_identity.current"]
    assert [r.address for r in state.managed_resources][-1] == "aws_db_instance.db[0]"
    assert (state.serial, state.lineage, state.terraform_version) == (3, "abc", "1.11.4")
    assert state.resource("aws_s3_bucket.this").resource_id == "b1"


def test_sensitive_outputs_and_attributes_are_registered_on_read():
    redactor = Redactor()
    state = parse_state(json.dumps(STATE), source="mem", redactor=redactor)
    assert state.resource("aws_db_instance.db[0]").sensitive_paths == (("password",),)
    text = redactor.redact("canary-output-secret canary-attr-secret plain")
    assert "canary" not in text and "plain" in text


@pytest.mark.parametrize(("body", "message"), [
    (b"", "empty"), (b"{\"version\": 4, \"resou", "not valid JSON"), (b"[1]", "not a JSON object"),
    (json.dumps({"version": 3, "serial": 1}).encode(), "unsupported state version 3"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_bad_states_are_clear_errors(body, message):
    with pytest.raises(StateError, match=message) as err:
        parse_state(body, source="s3://b/k")
    assert "s3://b/k" in str(err.value)


def test_read_state_from_s3_and_missing_key(moto):
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    s3.create_bucket(Bucket="tfstate")
    s3.put_object(Bucket="tfstate", Key="env:/dev/terraform.tfstate", Body=json.dumps(STATE).encode())
    state = read_state(s3, "tfstate", "env:/dev/terraform.tfstate")
    assert state.source == "s3://tfstate/env:/dev/terraform.tfstate"
    with pytest.raises(StateError, match="no state at this key"):
        read_state(s3, "tfstate", "missing.tfstate")
    with pytest.raises(StateError, match="does not exist"):
        read_state(s3, "no-such-bucket", "k")
