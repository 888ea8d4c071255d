"""Reading states: bad input is a StateError naming the object; workspaces are listed like Terraform."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import StateError
from harness.log import Redactor
from harness.state.reader import MissingStateError, list_workspaces, parse_state, read_state
from tests.state.helpers import BUCKET, resource, state_json

GOOD = state_json(serial=3, resources=[resource("aws_s3_bucket", "logs")])


@pytest.mark.parametrize("body, message", [
    (GOOD[: len(GOOD) // 2], "not valid JSON"),
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"<html>nope</html>", "not valid JSON"),
    (b"[]", "not a JSON object"),
    (state_json(version=3), "unsupported state version 3"),
    (json.dumps({"version": 4, "serial": "x", "lineage": "l"}).encode(), "malformed"),
    (json.dumps({"version": 4, "serial": 1, "resources": {"a": 1}}).encode(), "not a JSON list"),
    (json.dumps({"version": 4, "serial": 1,
                 "resources": [{"type": "t", "name": "n", "instances": ["x"]}]}).encode(),
     "not a JSON object"),
    (b"\xff\xfe\x00", "not UTF-8"),
])
def test_bad_states_are_state_errors_naming_the_source(body, message):
    with pytest.raises(StateError, match=message) as caught:
        parse_state(body, source="s3://b/app/terraform.tfstate")
    assert "s3://b/app/terraform.tfstate" in str(caught.value)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=15))
def test_any_json_parses_or_raises_state_error(value):
    if isinstance(value, dict):
        value = {"version": 4, **value}
    with contextlib.suppress(StateError):
        parse_state(json.dumps(value), source="x")


def test_sensitive_output_is_registered_when_read():
    redactor = Redactor()
    body = state_json(outputs={"db_password": {"value": "hunter2-very-secret", "type": "string",
                                                "sensitive": True}})
    parse_state(body, source="x", redactor=redactor)
    assert redactor.redact("pw is hunter2-very-secret") == "pw is [redacted]"


def test_read_state_names_a_missing_object(backend):
    with pytest.raises(MissingStateError, match=f"s3://{BUCKET}/nope/terraform.tfstate"):
        read_state(backend.s3, BUCKET, "nope/terraform.tfstate")
    with pytest.raises(MissingStateError, match="does not exist"):
        read_state(backend.s3, "no-such-bucket", "k")


def test_list_workspaces_default_and_prefix(backend):
    for key in ("terraform.tfstate", "vpc/dev/terraform.tfstate", "vpc/prod/terraform.tfstate",
                "vpc/prod/other.tfstate", "vpc/a/b/terraform.tfstate", "dns/dev/terraform.tfstate",
                "vpc/dev/terraform.tfstate.tflock"):
        backend.s3.put_object(Bucket=BUCKET, Key=key, Body=GOOD)
    assert list_workspaces(backend.s3, BUCKET, "terraform.tfstate", workspace_key_prefix="vpc") == {
        "default": "terraform.tfstate", "dev": "vpc/dev/terraform.tfstate",
        "prod": "vpc/prod/terraform.tfstate"}
    assert list_workspaces(backend.s3, BUCKET, "other.tfstate", workspace_key_prefix="vpc") == {
        "prod": "vpc/prod/other.tfstate"}
    assert list_workspaces(backend.s3, BUCKET, "terraform.tfstate") == {"default": "terraform.tfstate"}


def test_list_workspaces_in_a_missing_bucket_is_a_state_error(backend):
    with pytest.raises(StateError, match="cannot list workspaces"):
        list_workspaces(backend.s3, "no-such-bucket", "terraform.tfstate")
