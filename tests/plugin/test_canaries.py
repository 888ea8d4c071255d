"""Canary secrets planted in states and live resources never appear in any output of a drift run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.demo import SOURCE_ROOT, provision
from harness.stacks import load

pytestmark = pytest.mark.slow
DEMO = SOURCE_ROOT / "fixtures" / "demo"
CANARY_OUTPUT = "canary-output-7f3a9c"
CANARY_TAG = "canary-tag-secret-51d2e8"
CANARY_PASSWORD = "canary-password-0b77"


def plant(raw, instance) -> None:
    """Make the state carry a sensitive output and a sensitive tag value; drift that tag live."""
    s3, dynamodb = raw("s3"), raw("dynamodb")
    state = json.loads(s3.get_object(Bucket=instance.state_bucket, Key=instance.state_key)["Body"].read())
    state["outputs"]["db_password"] = {"value": CANARY_OUTPUT, "type": "string", "sensitive": True}
    bucket = state["resources"][0]["instances"][0]
    bucket["attributes"]["tags"]["Token"] = CANARY_TAG
    bucket["attributes"]["tags_all"]["Token"] = CANARY_TAG
    bucket["sensitive_attributes"] = [[{"type": "get_attr", "value": "tags"}, {"type": "index",
                                       "value": {"value": "Token", "type": "string"}}]]
    body = json.dumps(state).encode()
    s3.put_object(Bucket=instance.state_bucket, Key=instance.state_key, Body=body)
    dynamodb.put_item(TableName=instance.lock_table, Item={
        "LockID": {"S": f"{instance.state_bucket}/{instance.state_key}-md5"},
        "Digest": {"S": hashlib.md5(body).hexdigest()}})
    name = bucket["attributes"]["id"]
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [
        {"Key": "Purpose", "Value": "application-data"}, {"Key": "Token", "Value": CANARY_TAG + "-rotated"},
        {"Key": "Note", "Value": f"password={CANARY_PASSWORD}"}]})


def test_no_canary_in_stdout_stderr_logs_or_reports(moto, tmp_path, raw):
    config = load_config({"aws_endpoint_url": moto, "stacks_repo": str(DEMO)}, cwd=tmp_path, environ={})
    stack_set = load(DEMO, config)
    provision(SessionPool(config), stack_set)
    plant(raw, stack_set.get("app-bucket@platform-ue1-dev"))
    reports, log_file = tmp_path / "reports", tmp_path / "run.log"
    command = [sys.executable, "-m", "pytest", str(SOURCE_ROOT / "suites"), "-vv", "-p", "no:cacheprovider",
               "-n", "2", "--stacks-repo", str(DEMO), "--aws-endpoint-url", moto, "--report-dir", str(reports),
               "--log-file", str(log_file), "--log-file-level", "DEBUG", "--log-level", "DEBUG", "-rA",
               "--junitxml", str(reports / "junit.xml")]
    result = subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=dict(os.environ),
                            timeout=300, check=False)
    assert result.returncode == 1, result.stdout[-3000:]   # the drifted tags fail the item
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    outputs.update({str(p): p.read_text(errors="replace") for p in Path(reports).rglob("*") if p.is_file()})
    if log_file.exists():
        outputs["log"] = log_file.read_text()
    assert "drift.json" in " ".join(outputs) and "drift-report.html" in " ".join(outputs)
    for where, text in outputs.items():
        for canary in (CANARY_OUTPUT, CANARY_TAG, CANARY_PASSWORD):
            assert canary not in text, f"{canary} leaked into {where}"
    document = json.loads((reports / "drift.json").read_text())
    token = [f for f in document["findings"] if f["path"] == "tags.Token"]
    assert token and token[0]["expected"] == token[0]["actual"] == "(sensitive value changed)"
