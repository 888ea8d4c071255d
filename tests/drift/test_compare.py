"""Comparison: paths, modes, tags naming, sensitive masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.drift.assertions import DriftFound, assert_no_drift
from harness.drift.compare import compare_resource
from harness.drift.findings import SENSITIVE_CHANGED, Finding, InstanceResult, format_path
from harness.inventory.spec import Attr, Listing, ResourceType
from harness.inventory.types.ec2 import SECURITY_GROUP, normalise_rules, security_group_rules
from harness.state.model import ResourceInstance

THING = ResourceType(
    type="aws_thing", service="x", listing=Listing("list", "Items"), id_field="Id",
    attributes=(Attr("name", "Name"), Attr("config", "Config"),
                Attr("members", "Members", compare="set", state=lambda v: sorted(v or []),
                     live=lambda v: sorted(v or [])),
                Attr("tags_all", "Tags", compare="tags")))


def resource(attrs, sensitive=()):
    return ResourceInstance(address="aws_thing.this", mode="managed", type="aws_thing", name="this",
                            provider="p", attributes={"id": "t-1", **attrs}, sensitive_paths=tuple(sensitive))


def test_format_path():
    assert format_path(["tags", "Owner"]) == "tags.Owner"
    assert format_path(["ingress", 2, "cidr_blocks"]) == "ingress[2].cidr_blocks"
    assert format_path(["tags", "a.b"]) == 'tags["a.b"]'
    assert format_path(["tags", "with space"]) == 'tags["with space"]'


def test_missing_resource_is_one_finding():
    [finding] = compare_resource(THING, resource({}), None)
    assert (finding.kind, finding.address, finding.resource_id) == ("missing", "aws_thing.this", "t-1")
    assert finding.path == ""


def test_equal_after_normalisation_gives_nothing():
    state = resource({"name": "n", "config": {"a": [1, 2]}, "members": ["b", "a"], "tags": {"k": "v"},
                      "tags_all": {"k": "v", "d": "1"}})
    live = {"name": "n", "config": {"a": [1, 2]}, "members": ["a", "b"], "tags_all": {"k": "v", "d": "1"}}
    assert compare_resource(THING, state, live) == []


def test_value_changes_are_reported_per_leaf_path():
    state = resource({"name": "n", "config": {"a": [1, 2], "b": {"c": "x"}}, "members": []})
    live = {"name": "m", "config": {"a": [1, 3], "b": {"c": "y"}}, "members": [], "tags_all": {}}
    found = {(f.path, f.expected, f.actual) for f in compare_resource(THING, state, live)}
    assert found == {("name", "n", "m"), ("config.a[1]", 2, 3), ("config.b.c", "x", "y")}


def test_set_attributes_report_removed_and_added_elements_at_the_attribute():
    state = resource({"members": ["a", "b"]})
    [finding] = compare_resource(THING, state, {"members": ["b", "c"], "tags_all": {}})
    assert (finding.path, finding.expected, finding.actual) == ("members", ["a"], ["c"])
    assert finding.set_diff and Finding.from_json(finding.to_json()) == finding
    value = compare_resource(THING, resource({"name": "n"}), {"name": "m", "tags_all": {}})[0]
    assert not value.set_diff and "set_diff" not in value.to_json()
    # The failure message says which side is which.
    with pytest.raises(DriftFound) as failed:
        assert_no_drift(InstanceResult("thing@dev", findings=(finding, value)))
    lines = str(failed.value).splitlines()
    assert 'removed (in state only): ["a"]' in lines[2] and 'added (live only): ["c"]' in lines[2]
    assert "removed" not in lines[3] and "added" not in lines[3]


def test_tags_are_named_by_where_terraform_sets_them():
    state = resource({"tags": {"Owner": "a", "a.b": "1"}, "tags_all": {"Owner": "a", "a.b": "1", "Managed": "tf"}})
    live = {"tags_all": {"Owner": "b", "a.b": "2", "Extra": "x"}}
    found = {(f.path, f.expected, f.actual) for f in compare_resource(THING, state, live)}
    assert found == {("tags.Owner", "a", "b"), ('tags["a.b"]', "1", "2"), ("tags_all.Managed", "tf", None),
                     ("tags_all.Extra", None, "x")}


def test_sensitive_values_are_masked_wherever_they_appear():
    state = resource({"name": "canary-secret-name", "tags": {"Token": "canary-secret-name"},
                      "tags_all": {"Token": "canary-secret-name"}}, sensitive=[("name",)])
    live = {"name": "other", "tags_all": {"Token": "changed"}}
    findings = compare_resource(THING, state, live)
    assert {f.path for f in findings} == {"name", "tags.Token"}
    for f in findings:
        assert f.expected == f.actual == SENSITIVE_CHANGED


def test_security_group_rules_gather_like_the_provider():
    permissions = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.1.0.0/16"}, {"CidrIp": "10.0.0.0/8"},
                      {"CidrIp": "1.2.3.4/32", "Description": "x"}],
         "UserIdGroupPairs": [{"GroupId": "sg-self"}, {"GroupId": "sg-other"}]},
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    ]
    rules = security_group_rules(permissions, "sg-self")
    assert rules == normalise_rules([
        {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8", "10.1.0.0/16"],
         "security_groups": ["sg-other"], "self": True},
        {"protocol": "tcp", "from_port": 443, "to_port": 443, "description": "x", "cidr_blocks": ["1.2.3.4/32"]},
        {"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]},
    ])
    assert SECURITY_GROUP.attributes[3].name == "ingress"


rule_strategy = st.fixed_dictionaries({
    "protocol": st.sampled_from(["tcp", "udp", "-1"]), "from_port": st.integers(0, 1024),
    "to_port": st.integers(0, 1024), "cidr_blocks": st.lists(st.sampled_from(["10.0.0.0/8", "0.0.0.0/0"]),
                                                             unique=True),
    "description": st.sampled_from(["", "a"])})


@given(st.lists(rule_strategy, max_size=6), st.randoms())
def test_rule_normalisation_is_order_free(rules, rng):
    shuffled = list(rules)
    rng.shuffle(shuffled)
    assert normalise_rules(rules) == normalise_rules(shuffled)
