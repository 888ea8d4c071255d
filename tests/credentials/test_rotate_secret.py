"""Secrets Manager rotation on moto: RotateSecret through the secret's rotation function."""

from __future__ import annotations

import json

import pytest

from tests.credentials.helpers import (
    Rotations,
    create_bucket,
    create_rotation_function,
    instance,
    make_config,
    stack_set,
    write_state,
)


@pytest.fixture
def secrets(moto, aws, tmp_path):
    create_bucket(aws("s3"))
    sm = aws("secretsmanager")
    with_function = sm.create_secret(Name="db/password", SecretString="canary-db-9a7c31f0")["ARN"]
    function = create_rotation_function(moto)
    sm.rotate_secret(SecretId=with_function, RotationLambdaARN=function, RotationRules={"AutomaticallyAfterDays": 30})
    without = sm.create_secret(Name="api/token", SecretString="canary-api-51b0e2d7")["ARN"]
    inst = instance("db", "acme-prod")
    write_state(aws("s3"), inst, [("aws_secretsmanager_secret", "db", {"id": with_function, "arn": with_function}),
                                  ("aws_secretsmanager_secret", "api", {"id": without, "arn": without})])
    config = make_config(moto, tmp_path, profiles={"prod": {"secretsmanager_secret": {"max_age_days": 0,
                                                                                        "warn_days": 0}}})
    return Rotations(config, stack_set(inst)), with_function, without


def stages(aws, arn) -> dict[str, list[str]]:
    return aws("secretsmanager").describe_secret(SecretId=arn)["VersionIdsToStages"]


def current_versions(aws, arn) -> set[str]:
    return {v for v, labels in stages(aws, arn).items() if "AWSCURRENT" in labels}


def rotated_version(rot, arn) -> str:
    from harness.credentials.records import StoreLocation

    location = StoreLocation("acme-tfstate")
    s3 = rot.pool.client("s3")
    body = s3.get_object(Bucket=location.bucket, Key=location.key_for("secretsmanager_secret", arn))["Body"].read()
    return json.loads(body)["data"]["version_id"]


def test_due_rotates_secrets_with_a_function_and_reports_those_without(moto, aws, secrets):
    rot, with_function, without = secrets
    plan = {item.id: item for item in rot.plan(due=True)}
    assert plan[with_function].action == "start" and plan[with_function].steps[0].startswith("call RotateSecret")
    assert plan[without].action == "refused" and "no rotation function" in plan[without].message
    before = current_versions(aws, with_function)
    outcomes = {o.id: o for o in rot.run(due=True)}
    assert outcomes[with_function].result == "completed"
    assert outcomes[without].result == "refused"
    # moto runs no function code: the new version stays AWSPENDING (a real function's finishSecret
    # step moves AWSCURRENT to it), so the test sees the version RotateSecret started.
    new = rotated_version(rot, with_function)
    assert new not in before and "AWSPENDING" in stages(aws, with_function)[new]
    assert [(e["action"], e["outcome"]) for e in rot.audit_lines if e["action"] != "s3.put_object"] == [
        ("secretsmanager.rotate_secret", "ok")]


def test_missing_function_stops_and_the_old_value_stays_current(moto, aws, secrets):
    rot, with_function, _ = secrets
    before = current_versions(aws, with_function)
    aws("lambda").delete_function(FunctionName="rotate-db")
    [failed] = rot.run(credential_id=with_function)
    assert (failed.result, failed.state) == ("failed", "started") and "ResourceNotFoundException" in failed.message
    assert current_versions(aws, with_function) == before
    item = {i.id: i for i in rot.plan(due=True, kind="secretsmanager_secret")}[with_function]
    assert item.action == "continue" and "stopped at started" in item.message

    create_rotation_function(moto)
    [resumed] = rot.run(credential_id=with_function)
    assert resumed.result == "completed"
    assert "AWSPENDING" in stages(aws, with_function)[rotated_version(rot, with_function)]
    assert current_versions(aws, with_function) == before
