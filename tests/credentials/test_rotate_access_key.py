"""IAM access key rotation on moto: two-phase, sinks, grace period, refusals, stops and resumes."""

from __future__ import annotations

import json

import pytest

from harness.credentials.records import StoreLocation
from tests.credentials.helpers import (
    STATE_BUCKET,
    Rotations,
    create_bucket,
    days_from_now,
    instance,
    make_config,
    stack_set,
    undeclared_writes,
    write_state,
)

SINK = {"type": "secretsmanager", "name": "iam/{user}/access-key"}


@pytest.fixture
def user(moto, aws):
    """carol with one active key, managed by iam@acme-prod."""
    create_bucket(aws("s3"))
    aws("iam").create_user(UserName="carol")
    key = aws("iam").create_access_key(UserName="carol")["AccessKey"]
    inst = instance("iam", "acme-prod")
    write_state(aws("s3"), inst, [("aws_iam_access_key", "carol", {"id": key["AccessKeyId"], "user": "carol"})])
    return inst, key["AccessKeyId"], key["SecretAccessKey"]


def rotations(moto, tmp_path, inst, policy=None, **changes) -> Rotations:
    policy = {"sink": SINK, "grace_days": 0} if policy is None else policy
    config = make_config(moto, tmp_path, profiles={"prod": {"iam_access_key": policy}}, **changes)
    return Rotations(config, stack_set(inst))


def keys(aws, user="carol"):
    return {k["AccessKeyId"]: k["Status"] for k in aws("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def sink_value(aws, name="iam/carol/access-key"):
    return json.loads(aws("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


def record(aws, key_id):
    location = StoreLocation(STATE_BUCKET)
    body = aws("s3").get_object(Bucket=location.bucket, Key=location.key_for("iam_access_key", key_id))["Body"]
    return json.loads(body.read())


def test_plan_changes_nothing(moto, aws, tmp_path, user):
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    [item] = rotations(moto, tmp_path, inst).plan(credential_id=old)
    assert (item.action, item.kind, item.id, item.instance) == ("start", "iam_access_key", old, inst.id)
    assert item.steps == ("create a new access key for carol", "store it in secretsmanager:iam/carol/access-key",
                          f"deactivate {old}", f"delete {old} after 0 day(s), on a later run")
    assert keys(aws) == {old: "Active"}
    assert "Contents" not in aws("s3").list_objects_v2(Bucket=STATE_BUCKET, Prefix="stackharness/")
    assert not (tmp_path / "reports" / "rotation-audit.jsonl").exists()


def test_two_phase_rotation_with_grace_period(moto, aws, tmp_path, user):
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst, policy={"sink": SINK, "grace_days": 7})
    [first] = rot.run(credential_id=old)
    assert (first.result, first.state) == ("waiting", "deactivated")
    now = keys(aws)
    [new] = set(now) - {old}
    assert now == {old: "Inactive", new: "Active"}                  # never without an active key
    assert sink_value(aws)["AccessKeyId"] == new
    stored = record(aws, old)
    assert [h["state"] for h in stored["history"]] == ["started", "created", "delivered", "deactivated"]
    assert stored["data"]["new_key_id"] == new and stored["error"] is None
    assert "SecretAccessKey" not in json.dumps(stored) and sink_value(aws)["SecretAccessKey"] not in json.dumps(stored)

    # A later run inside the grace period waits; --due finds the unfinished record by itself.
    [second] = rot.run(now=days_from_now(3), due=True)
    assert (second.id, second.result) == (old, "waiting") and "grace period of 7 day(s) ends" in second.message
    assert keys(aws) == {old: "Inactive", new: "Active"}
    [third] = rot.run(now=days_from_now(8), due=True)
    assert (third.result, third.state) == ("completed", "completed")
    assert keys(aws) == {new: "Active"}
    assert [(e["action"], e["outcome"]) for e in rot.audit_lines if not e["action"].startswith("s3.")] == [
        ("iam.create_access_key", "ok"), ("secretsmanager.put_secret_value", "ok"),
        ("iam.update_access_key", "ok"), ("iam.delete_access_key", "ok")]
    # nothing left to do
    assert rot.run(now=days_from_now(9), due=True) == []


def test_deletion_never_in_the_run_that_deactivated(moto, aws, tmp_path, user):
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst)       # grace_days 0
    [first] = rot.run(credential_id=old)
    assert first.result == "waiting" and "later run" in first.message
    assert keys(aws)[old] == "Inactive"
    [second] = rot.run(due=True)
    assert second.result == "completed" and old not in keys(aws)


def test_ssm_sink(moto, aws, tmp_path, user):
    inst, old, _ = user
    rot = rotations(moto, tmp_path, inst, policy={"sink": {"type": "ssm", "name": "/iam/{user}/key"}})
    [outcome] = rot.run(credential_id=old)
    assert outcome.result == "waiting"
    value = json.loads(aws("ssm").get_parameter(Name="/iam/carol/key", WithDecryption=True)["Parameter"]["Value"])
    assert keys(aws)[value["AccessKeyId"]] == "Active" and keys(aws)[old] == "Inactive"


def test_no_sink_is_refused_with_how_to_configure_one(moto, aws, tmp_path, user):
    inst, old, _ = user
    rot = rotations(moto, tmp_path, inst, policy={})
    [item] = rot.plan(credential_id=old)
    assert item.action == "refused" and "no sink" in item.message
    [outcome] = rot.run(credential_id=old)
    assert outcome.result == "refused" and "profiles.prod.credentials.iam_access_key" in outcome.message
    assert keys(aws) == {old: "Active"}


def test_user_with_two_keys_is_refused_with_an_explanation(moto, aws, tmp_path, user):
    inst, old, _ = user
    second = aws("iam").create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    [outcome] = rotations(moto, tmp_path, inst).run(credential_id=old)
    assert outcome.result == "refused"
    assert "already has two access keys" in outcome.message and f"--access-key-id {second}" in outcome.message
    assert keys(aws) == {old: "Active", second: "Active"}


def test_missing_sink_is_refused_before_a_key_is_created(moto, aws, tmp_path, user):
    """The sink secret does not exist: plan and run refuse, so the user never holds two active keys."""
    inst, old, _ = user
    rot = rotations(moto, tmp_path, inst)
    [item] = rot.plan(credential_id=old)
    assert item.action == "refused" and "sink secret 'iam/carol/access-key' does not exist" in item.message
    [outcome] = rot.run(credential_id=old)
    assert outcome.result == "refused" and "create-secret --name iam/carol/access-key" in outcome.message
    assert keys(aws) == {old: "Active"}
    assert not [e for e in rot.audit_lines if e["action"].startswith("iam.")]
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    [done] = rot.run(credential_id=old)
    assert (done.result, done.state) == ("waiting", "deactivated")


def test_sink_deleted_after_the_rotation_began_is_refused_at_the_create_step(moto, aws, tmp_path, user):
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst)
    [begun] = rot.run(credential_id=old, max_steps=0)
    assert (begun.result, begun.state) == ("waiting", "started")
    aws("secretsmanager").delete_secret(SecretId="iam/carol/access-key")          # scheduled for deletion
    [outcome] = rot.run(due=True)
    assert (outcome.result, outcome.state) == ("refused", "started")
    assert "scheduled for deletion" in outcome.message and keys(aws) == {old: "Active"}


def test_an_undelivered_key_is_replaced_when_a_rerun_continues(moto, aws, tmp_path, user):
    """A run stopped after creating the key: its secret went with that run, so the re-run replaces it."""
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst)
    [stopped] = rot.run(credential_id=old, max_steps=1)
    assert (stopped.result, stopped.state) == ("waiting", "created")
    [undelivered] = set(keys(aws)) - {old}
    [item] = rot.plan(due=True)
    assert (item.action, item.state) == ("continue", "created")
    [resumed] = rot.run(due=True)
    assert (resumed.result, resumed.state) == ("waiting", "deactivated")
    now = keys(aws)
    assert undelivered not in now
    [new] = set(now) - {old}
    assert now == {old: "Inactive", new: "Active"} and sink_value(aws)["AccessKeyId"] == new
    assert [h["state"] for h in record(aws, old)["history"]] == [
        "started", "created", "started", "created", "delivered", "deactivated"]


def test_store_that_refuses_the_write_changes_nothing(moto, aws, tmp_path, user):
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst, rotation_store="s3://no-such-rotation-bucket/records/")
    [outcome] = rot.run(credential_id=old)
    assert outcome.result == "failed" and "s3://no-such-rotation-bucket/records/iam_access_key/" in outcome.message
    assert "NoSuchBucket" in outcome.message
    assert keys(aws) == {old: "Active"}


def test_record_changed_by_another_run_undoes_the_unrecorded_key(moto, aws, tmp_path, user):
    """S3 refuses our conditional write after the key was created: the key, never delivered, is deleted."""
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst)
    [begun] = rot.run(credential_id=old, max_steps=0)
    assert (begun.result, begun.state) == ("waiting", "started")
    ctx = rot.context()
    [(target, _)] = rot.targets(ctx, credential_id=old)
    stored = target.store.load("iam_access_key", old)
    location = target.store.location
    # another run writes the record meanwhile (same content, new ETag)
    aws("s3").put_object(Bucket=location.bucket, Key=location.key_for("iam_access_key", old),
                         Body=json.dumps(stored.record.to_json()).encode() + b"\n")
    from harness.credentials.rotation import run_rotations

    [outcome] = run_rotations([(target, stored)], ctx)
    assert outcome.result == "failed" and "record changed while this run was using it" in outcome.message
    assert keys(aws) == {old: "Active"}              # the unrecorded key was deleted again
    assert [e["action"] for e in rot.audit_lines][-3:] == ["iam.create_access_key", "s3.put_object",
                                                            "iam.delete_access_key"]
    [resumed] = rot.run(due=True)
    assert resumed.result == "waiting" and len(keys(aws)) == 2


def test_reactivated_old_key_is_not_deleted(moto, aws, tmp_path, user):
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst)
    rot.run(credential_id=old)
    aws("iam").update_access_key(UserName="carol", AccessKeyId=old, Status="Active")   # someone still needs it
    [outcome] = rot.run(due=True)
    assert outcome.result == "refused" and "activated again" in outcome.message
    assert keys(aws)[old] == "Active"



def test_every_audited_write_is_a_declared_write_operation(moto, aws, tmp_path, user):
    """WRITE_OPERATIONS is the scope the write permission needs: every write the rotation made is in it."""
    inst, old, _ = user
    aws("secretsmanager").create_secret(Name="iam/carol/access-key", SecretString="{}")
    rot = rotations(moto, tmp_path, inst)
    rot.run(credential_id=old)
    rot.run(due=True)
    assert len(rot.audit_lines) >= 5 and undeclared_writes(rot.audit_lines) == set()
