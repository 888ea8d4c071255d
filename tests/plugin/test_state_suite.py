"""The state suite and the state_lock fixture on the demo repo provisioned on moto."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.demo import SOURCE_ROOT, provision
from harness.stacks import load
from harness.state.lockinfo import new_lock_info

pytestmark = pytest.mark.slow
DEMO = SOURCE_ROOT / "fixtures" / "demo"


def run(endpoint: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", "--stacks-repo", str(DEMO),
               "--aws-endpoint-url", endpoint, "--report-dir", str(tmp_path), *args]
    return subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=dict(os.environ),
                          timeout=300, check=False)


@pytest.fixture
def demo(moto, tmp_path):
    config = load_config({"aws_endpoint_url": moto, "stacks_repo": str(DEMO)}, cwd=tmp_path, environ={})
    stack_set = load(DEMO, config)
    provision(SessionPool(config), stack_set)
    return moto, stack_set


def test_healthy_states_pass(demo, tmp_path):
    endpoint, stack_set = demo
    result = run(endpoint, tmp_path, str(SOURCE_ROOT / "suites" / "test_state.py"))
    assert result.returncode == 0, result.stdout
    assert f"{3 * len(stack_set.deployable)} passed" in result.stdout


def test_stale_lock_bad_digest_and_rollback_fail_their_instance_only(demo, tmp_path, raw):
    endpoint, stack_set = demo
    s3, dynamodb = raw("s3"), raw("dynamodb")
    stale = stack_set.get("app-bucket@platform-ue1-dev")
    lock = new_lock_info(operation="OperationTypeApply", path=f"{stale.state_bucket}/{stale.state_key}",
                         who="ci@runner", info="", version="1.11.4", now=datetime(2026, 1, 1, tzinfo=UTC))
    dynamodb.put_item(TableName=stale.lock_table, Item={"LockID": {"S": f"{stale.state_bucket}/{stale.state_key}"},
                                                        "Info": {"S": lock.to_json()}})
    corrupt = stack_set.get("web-sg@platform-ue1-dev")
    dynamodb.put_item(TableName=corrupt.lock_table, Item={
        "LockID": {"S": f"{corrupt.state_bucket}/{corrupt.state_key}-md5"}, "Digest": {"S": "0" * 32}})
    rolled = stack_set.get("logs-bucket@platform-ue1-prod")
    body = json.loads(s3.get_object(Bucket=rolled.state_bucket, Key=rolled.state_key)["Body"].read())
    for serial in (5, 4):  # a newer state, then an older serial on top: a rollback (digest kept right)
        data = json.dumps({**body, "serial": serial}).encode()
        s3.put_object(Bucket=rolled.state_bucket, Key=rolled.state_key, Body=data)
        dynamodb.put_item(TableName=rolled.lock_table, Item={
            "LockID": {"S": f"{rolled.state_bucket}/{rolled.state_key}-md5"},
            "Digest": {"S": hashlib.md5(data).hexdigest()}})
    result = run(endpoint, tmp_path, str(SOURCE_ROOT / "suites" / "test_state.py"))
    assert result.returncode == 1
    failed = sorted(line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("FAILED"))
    assert failed == ["suites/test_state.py::test_digest[web-sg@platform-ue1-dev]",
                      "suites/test_state.py::test_lock_status[app-bucket@platform-ue1-dev]",
                      "suites/test_state.py::test_serial_and_lineage[logs-bucket@platform-ue1-prod]"], result.stdout
    assert "stackharness locks clean" in result.stdout


def test_state_lock_marker_holds_a_terraform_lock_during_the_test(demo, tmp_path):
    endpoint, _ = demo
    suite = tmp_path / "test_locked.py"
    suite.write_text(f'''
import boto3, json, pytest

pytestmark = pytest.mark.state_lock

def test_locked(component):
    dynamodb = boto3.client("dynamodb", endpoint_url="{endpoint}", region_name="us-east-1")
    item = dynamodb.get_item(TableName=component.lock_table,
                             Key={{"LockID": {{"S": component.state_bucket + "/" + component.state_key}}}})
    assert json.loads(item["Item"]["Info"]["S"])["Operation"] == "stackharness-check"
''')
    result = run(endpoint, tmp_path, str(suite), "--component", "web-sg")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    import boto3
    items = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1").scan(
        TableName="acme-demo-tflock")["Items"]
    assert all(i["LockID"]["S"].endswith("-md5") for i in items)  # every lock released
