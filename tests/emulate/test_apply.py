"""The emulated apply: argument templates, references, count, and the states it writes."""

from __future__ import annotations

import json

import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.drift.scenarios import Mutation, Scenario
from harness.emulate.apply import EmulationError, apply_instance, render, resolve_refs
from harness.emulate.mutations import MUTATIONS, available_ops
from harness.emulate.resources import CREATORS
from harness.emulate.scenario import apply_mutation, resource_addresses
from harness.errors import HarnessError
from harness.inventory.registry import RESOURCE_TYPES
from harness.stacks import load
from harness.state.reader import parse_state

ATMOS = """
base_path: "."
components: {terraform: {base_path: components/terraform}}
stacks: {base_path: stacks, included_paths: ["*.yaml"], name_pattern: "{stage}"}
"""
STACK = """
vars: {stage: dev, queues: 3}
terraform:
  backend_type: s3
  backend: {s3: {bucket: emu-state, key: terraform.tfstate, region: us-east-1}}
components:
  terraform:
    jobs: {vars: {name: jobs}}
"""
EMULATION = """
resources:
  - address: aws_sqs_queue.this
    count: "{queues}"
    args: {name: "{stage}-{name}-{index}"}
  - address: aws_sns_topic.fanout
    count: 2
    args: {name: "fanout-{index}", display_name: {ref: "aws_sqs_queue.this[{index}].name"}}
"""


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "atmos.yaml").write_text(ATMOS)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "dev.yaml").write_text(STACK)
    component = tmp_path / "components" / "terraform" / "jobs"
    component.mkdir(parents=True)
    (component / "stackharness-emulation.yaml").write_text(EMULATION)
    return tmp_path


def test_render_and_refs():
    assert render({"a": "{x}", "b": "{x}-{y}", "c": ["{y}"]}, {"x": {"k": 1}, "y": "z"}) == \
        {"a": {"k": 1}, "b": "{'k': 1}-z", "c": ["z"]}
    created = {"aws_vpc.this": {"id": "vpc-1"}, "aws_s3_bucket.b[2]": {"arn": "arn:b"}}
    assert resolve_refs({"vpc_id": {"ref": "aws_vpc.this.id"}, "l": [{"ref": "aws_s3_bucket.b[2].arn"}]}, created) == \
        {"vpc_id": "vpc-1", "l": ["arn:b"]}
    with pytest.raises(KeyError, match="names no resource"):
        resolve_refs({"ref": "aws_vpc.other.id"}, created)


def test_count_writes_indexed_instances_and_refs_reach_them(moto, repo, raw, tmp_path):
    config = load_config({"aws_endpoint_url": moto, "stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    pool = SessionPool(config)
    instance = load(repo, config).get("jobs@dev")
    raw("s3").create_bucket(Bucket="emu-state")
    with pool.allow_writes("test"):
        state = apply_instance(pool, instance, account_id="123456789012")
    parsed = parse_state(json.dumps(state), source="test")
    assert [r.address for r in parsed.resources] == [
        "aws_sqs_queue.this[0]", "aws_sqs_queue.this[1]", "aws_sqs_queue.this[2]",
        "aws_sns_topic.fanout[0]", "aws_sns_topic.fanout[1]"]
    assert parsed.resource("aws_sns_topic.fanout[1]").attributes["display_name"] == "dev-jobs-1"
    assert sorted(u.rsplit("/", 1)[1] for u in raw("sqs").list_queues()["QueueUrls"]) == \
        ["dev-jobs-0", "dev-jobs-1", "dev-jobs-2"]
    stored = json.loads(raw("s3").get_object(Bucket="emu-state", Key=instance.state_key)["Body"].read())
    assert stored == state
    assert set(resource_addresses(state)) == {r.address for r in parsed.resources}


def test_a_bad_template_names_the_component_file(moto, repo, raw, tmp_path):
    emulation = repo / "components" / "terraform" / "jobs" / "stackharness-emulation.yaml"
    emulation.write_text("resources:\n  - address: aws_sqs_queue.this\n    args: {name: '{missing_var}-x'}\n")
    config = load_config({"aws_endpoint_url": moto, "stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    pool = SessionPool(config)
    with pytest.raises(EmulationError, match=r"jobs@dev: aws_sqs_queue\.this") as caught, pool.allow_writes("test"):
        apply_instance(pool, load(repo, config).get("jobs@dev"), account_id="123456789012")
    assert str(emulation) in str(caught.value)


def test_every_supported_type_can_be_created_and_drifted():
    assert set(CREATORS) == set(RESOURCE_TYPES)
    for resource_type in RESOURCE_TYPES:
        ops = available_ops(resource_type)
        assert ops, resource_type
        assert {"delete_resource", "change_attribute", "suspend_versioning", "add_ingress_rule"} & set(ops) \
            or "set_tags" in ops, resource_type
    assert all(t in RESOURCE_TYPES for _, t in MUTATIONS)


def test_mutation_errors_name_the_scenario_and_what_is_available(moto, repo, tmp_path):
    config = load_config({"aws_endpoint_url": moto, "stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    stack_set = load(repo, config)
    states = {"jobs@dev": {"resources": [{"mode": "managed", "type": "aws_sqs_queue", "name": "this", "instances": [
        {"attributes": {"id": "https://q"}}]}]}}
    scenario = Scenario("s", "", repo, (), frozenset(), tmp_path / "s.yaml")
    pool = SessionPool(config)
    with pytest.raises(HarnessError, match="not available for aws_sqs_queue") as caught:
        apply_mutation(pool, stack_set, states, "123456789012", scenario,
                       Mutation("suspend_versioning", "jobs@dev", "aws_sqs_queue.this", {}))
    assert "change_attribute" in str(caught.value) and "s.yaml" in str(caught.value)
    with pytest.raises(HarnessError, match=r"has no resource aws_sqs_queue\.other"):
        apply_mutation(pool, stack_set, states, "123456789012", scenario,
                       Mutation("delete_resource", "jobs@dev", "aws_sqs_queue.other", {}))
    with pytest.raises(HarnessError, match="cannot be created"):
        apply_mutation(pool, stack_set, states, "123456789012", scenario,
                       Mutation("create_unmanaged", "jobs@dev", None, {"type": "aws_nothing"}))
