"""Plan-JSON drift: refresh-only plans written to Terraform's documented `show -json` format."""

from __future__ import annotations

import json

import pytest

from harness.drift.findings import SENSITIVE_CHANGED
from harness.drift.plan import PlanError, plan_file, read_plan, result_from_plan, sensitive_paths
from harness.inventory.registry import RESOURCE_TYPES
from harness.log import Redactor
from harness.stacks.model import ComponentInstance


def instance(id_="web@prod"):
    component, stack = id_.split("@")
    return ComponentInstance(component=component, stack=stack, component_type="terraform",
                             terraform_component=component, vars={}, settings={}, env={}, backend_type="s3",
                             backend={}, metadata={}, providers={}, workspace=stack, state_key=None,
                             stack_file="stacks/prod", environment_type="prod")


def drift(address, rtype, actions, before, after, before_sensitive=None, after_sensitive=None, mode="managed"):
    return {"address": address, "mode": mode, "type": rtype, "name": address.split(".")[-1],
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": actions, "before": before, "after": after,
                       "before_sensitive": before_sensitive or {}, "after_sensitive": after_sensitive or {}}}


LIFECYCLE_BEFORE = {"id": "logs", "bucket": "logs", "rule": [{"id": "r1", "status": "Enabled",
                                                                  "expiration": [{"days": 30}]}]}
LIFECYCLE_AFTER = {**LIFECYCLE_BEFORE, "rule": [{"id": "r1", "status": "Enabled", "expiration": [{"days": 7}]}]}
# The bucket's computed mirrors change with the dedicated resources: compared only through those.
BUCKET_BEFORE = {"id": "logs", "bucket": "logs", "tags": {"Owner": "a"}, "tags_all": {"Owner": "a", "Managed": "tf"},
                 "lifecycle_rule": [{"id": "r1", "enabled": True, "expiration": [{"days": 30}]}],
                 "versioning": [{"enabled": False, "mfa_delete": False}], "acceleration_status": "",
                 "server_side_encryption_configuration": []}
BUCKET_AFTER = {**BUCKET_BEFORE, "tags": {"Owner": "b"}, "tags_all": {"Owner": "b"},
                "lifecycle_rule": [{"id": "r1", "enabled": True, "expiration": [{"days": 7}]}],
                "versioning": [{"enabled": True, "mfa_delete": False}], "acceleration_status": "Enabled",
                "server_side_encryption_configuration": [{"rule": [{"bucket_key_enabled": True}]}]}
RULE = {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"], "description": "",
        "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}
SSH = {**RULE, "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}

PLAN = {
    "format_version": "1.2", "terraform_version": "1.11.4",
    "resource_drift": [
        drift("aws_s3_bucket.logs", "aws_s3_bucket", ["update"], BUCKET_BEFORE, BUCKET_AFTER),
        drift("aws_s3_bucket_lifecycle_configuration.logs", "aws_s3_bucket_lifecycle_configuration", ["update"],
              LIFECYCLE_BEFORE, LIFECYCLE_AFTER),
        drift("module.net.aws_security_group.web[0]", "aws_security_group", ["update"],
              {"id": "sg-1", "ingress": [RULE], "name": "web"}, {"id": "sg-1", "ingress": [SSH, RULE], "name": "web"}),
        drift("aws_db_instance.main", "aws_db_instance", ["update"],
              {"id": "db-1", "password": "hunter2-canary", "tags": {"Secret": "hunter2-canary"},
               "tags_all": {"Secret": "hunter2-canary"}, "instance_class": "db.t3.micro"},
              {"id": "db-1", "password": "rotated-canary", "tags": {"Secret": "other"},
               "tags_all": {"Secret": "other"}, "instance_class": "db.t3.small"},
              before_sensitive={"password": True}, after_sensitive={"password": True}),
        drift("aws_sqs_queue.gone", "aws_sqs_queue", ["delete"], {"id": "https://q/gone", "name": "gone"}, None),
        drift("data.aws_iam_policy_document.x", "aws_iam_policy_document", ["update"], {"id": "1"}, {"id": "2"},
              mode="data"),
        drift("aws_sns_topic.same", "aws_sns_topic", ["no-op"], {"id": "t"}, {"id": "t"}),
    ],
    "prior_state": {"values": {"root_module": {
        "resources": [{"address": a, "mode": "managed"} for a in
                      ("aws_s3_bucket.logs", "aws_s3_bucket_lifecycle_configuration.logs", "aws_db_instance.main",
                       "aws_sqs_queue.gone", "aws_sns_topic.same")]
        + [{"address": "data.aws_caller_identity.me", "mode": "data"}],
        "child_modules": [{"resources": [{"address": "module.net.aws_security_group.web[0]", "mode": "managed"}]}],
    }}},
}


def test_plan_drift_becomes_the_same_findings():
    redactor = Redactor()
    result = result_from_plan(PLAN, instance(), RESOURCE_TYPES, severity="warn", redactor=redactor)
    found = {(f.address, f.kind, f.path): (f.expected, f.actual) for f in result.findings}
    assert found[("aws_s3_bucket.logs", "changed", "tags.Owner")] == ("a", "b")
    assert found[("aws_s3_bucket.logs", "changed", "tags_all.Managed")] == ("tf", None)
    assert found[("aws_s3_bucket_lifecycle_configuration.logs", "changed", "rule[0].expiration[0].days")] == (30, 7)
    # aws_s3_bucket's deprecated mirrors are not reported a second time
    assert sorted(p for a, _, p in found if a == "aws_s3_bucket.logs") == ["tags.Owner", "tags_all.Managed"]
    # ingress is a set for aws_security_group: reported once, with the added element
    assert found[("module.net.aws_security_group.web[0]", "changed", "ingress")] == ([], [SSH])
    assert found[("aws_sqs_queue.gone", "missing", "")] == (None, None)
    assert not [key for key in found if key[0].startswith(("data.", "aws_sns_topic"))]
    assert {f.instance for f in result.findings} == {"web@prod"} and {f.severity for f in result.findings} == {"warn"}
    assert result.resources == result.checked == 6 and result.unchecked == 0
    assert [f.resource_id for f in result.findings if f.kind == "missing"] == ["https://q/gone"]


def test_sensitive_values_and_their_copies_are_masked_and_registered():
    redactor = Redactor()
    result = result_from_plan(PLAN, instance(), RESOURCE_TYPES, redactor=redactor)
    db = {f.path: (f.expected, f.actual) for f in result.findings if f.address == "aws_db_instance.main"}
    assert db["password"] == (SENSITIVE_CHANGED, SENSITIVE_CHANGED)
    assert db["tags.Secret"] == (SENSITIVE_CHANGED, SENSITIVE_CHANGED)   # the secret copied into a tag
    assert db["instance_class"] == ("db.t3.micro", "db.t3.small")
    assert "canary" not in json.dumps([f.to_json() for f in result.findings])
    assert "hunter2-canary" not in redactor.redact("leaked hunter2-canary and rotated-canary")
    assert "rotated-canary" not in redactor.redact("rotated-canary")


def test_sensitive_marker_paths():
    marker = {"password": True, "tags": {"token": True, "plain": False}, "list": [False, True], "nested": []}
    assert sorted(sensitive_paths(marker), key=str) == [("list", 1), ("password",), ("tags", "token")]


def test_an_errored_plan_is_an_evaluation_error_not_clean():
    result = result_from_plan({"format_version": "1.2", "errored": True}, instance(), RESOURCE_TYPES)
    assert result.errors and not result.findings


def test_plan_files_and_their_errors(tmp_path):
    assert plan_file(tmp_path, "vpc/main@prod").name == "vpc%2Fmain@prod.json"
    with pytest.raises(PlanError, match="no plan JSON"):
        read_plan(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(PlanError, match="cannot read plan JSON"):
        read_plan(tmp_path / "bad.json")
    (tmp_path / "state.json").write_text(json.dumps({"version": 4, "resources": []}))
    with pytest.raises(PlanError, match="no format_version"):
        read_plan(tmp_path / "state.json")
    (tmp_path / "ok.json").write_text(json.dumps(PLAN))
    assert read_plan(tmp_path / "ok.json")["format_version"] == "1.2"
