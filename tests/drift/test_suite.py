"""The drift suite end to end with the drift engine's features: suppressions (file and marker),
severity from the profile, plan-JSON input, the unmanaged check's summary, and injected throttling.
Each test provisions the demo on moto and runs `pytest` in a subprocess, like a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.demo import DEFAULT_SCENARIO, SOURCE_ROOT, apply_scenario, provision
from harness.drift.scenarios import load_scenario
from harness.stacks import load

pytestmark = pytest.mark.slow

DEMO = SOURCE_ROOT / "fixtures" / "demo"
SUITE = SOURCE_ROOT / "suites" / "test_drift.py"
LEAN = ("-p", "no:cacheprovider", "-p", "no:allure_pytest", "-p", "no:hypothesispytest")


def run(report_dir: Path, *args: str, repo: Path = DEMO, suite: Path = SUITE) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", str(suite), "-q", "-rA", *LEAN, "--stacks-repo", str(repo),
               "--report-dir", str(report_dir), *args]
    return subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=dict(os.environ),
                          timeout=300, check=False)


def drifted_demo(endpoint: str, repo: Path, tmp_path: Path) -> None:
    """The demo repo provisioned, with the demo scenario's three out-of-band changes."""
    config = load_config({"aws_endpoint_url": endpoint, "stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    pool, stack_set = SessionPool(config), load(repo, config)
    apply_scenario(pool, stack_set, provision(pool, stack_set), load_scenario(DEFAULT_SCENARIO))


def document(report_dir: Path) -> dict:
    return json.loads((report_dir / "drift.json").read_text())


def by_instance(doc: dict) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    for finding in doc["findings"]:
        result.setdefault(finding["instance"], []).append(finding)
    return result


SUPPRESSIONS = """suppressions:
  - match: {instance: "app-bucket@*", path: "tags.Purpose"}
    reason: scratch data, cleaned up weekly
    owner: data@example.com
    expires: 2999-12-31
  - match: {address: aws_security_group.this, path: ingress}
    reason: SSH for the incident
    owner: sec@example.com
    expires: 2020-01-31
    ticket: SEC-7
  - match: {instance: "retired@*"}
    reason: retired component
    owner: ops@example.com
    expires: 2999-12-31
"""


def test_suppressed_expired_and_stale_entries(moto, tmp_path):
    drifted_demo(moto, DEMO, tmp_path)
    suppressions = tmp_path / "accepted.yaml"
    suppressions.write_text(SUPPRESSIONS)
    result = run(tmp_path, "--aws-endpoint-url", moto, "--suppressions-file", str(suppressions))
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "PASSED suites/test_drift.py::test_drift[app-bucket@platform-ue1-dev]" in out
    assert "FAILED suites/test_drift.py::test_drift[web-sg@platform-ue1-prod]" in out
    assert "(suppression expired on 2020-01-31)" in out
    assert "FAILED suites/test_drift.py::test_suppressions" in out and ":6: suppression expired on 2020-01-31" in out
    doc = document(tmp_path)
    findings = by_instance(doc)
    [app] = findings["app-bucket@platform-ue1-dev"]
    assert app["suppressed"] is True and app["suppression"]["owner"] == "data@example.com"
    assert app["suppression"]["id"].endswith("accepted.yaml:2") and app["suppression"]["status"] == "active"
    [web] = findings["web-sg@platform-ue1-prod"]
    assert web["suppressed"] is False and web["suppression"]["status"] == "expired"
    assert doc["summary"]["suppressed"] == 1 and doc["summary"]["changed"] == 2
    assert [(e["ticket"], e["matched"]) for e in doc["suppressions"]["expired"]] == [("SEC-7", 1)]
    assert [e["owner"] for e in doc["suppressions"]["stale"]] == ["ops@example.com"]
    assert "suppressions: 1 finding(s) suppressed, 1 expired" in out
    # The demo configures no ownership markers: the unmanaged check is off and says so.
    assert doc["summary"]["unmanaged_check"] == "off" and "unmanaged check: off" in out
    assert "SKIPPED" in out and "unmanaged check is off" in out


def test_a_broken_suppressions_file_makes_every_drift_item_an_error_naming_the_entry(moto, tmp_path):
    drifted_demo(moto, DEMO, tmp_path)
    suppressions = tmp_path / "accepted.yaml"
    suppressions.write_text("suppressions:\n  - match: {path: ingress}\n    reason: r\n    expires: 2999-01-01\n")
    result = run(tmp_path, "--aws-endpoint-url", moto, "--suppressions-file", str(suppressions))
    assert result.returncode == 1
    assert "accepted.yaml:2: suppression #1: has no owner" in result.stdout
    doc = document(tmp_path)
    assert doc["summary"]["errors"] == doc["summary"]["instances"] == 6 and doc["findings"] == []


MARKED_SUITE = '''
import pytest
from harness.drift.assertions import assert_no_drift

pytestmark = pytest.mark.expected_drift(path="ingress", reason="SSH during the incident", owner="sec@example.com",
                                        expires="2999-01-01", ticket="SEC-9")


def test_drift(drift_result):
    assert_no_drift(drift_result)
'''


def test_expected_drift_marker_suppresses_for_its_suite(moto, tmp_path):
    drifted_demo(moto, DEMO, tmp_path)
    suite = tmp_path / "suite" / "test_accepted.py"
    suite.parent.mkdir()
    suite.write_text(MARKED_SUITE)
    result = run(tmp_path, "--aws-endpoint-url", moto, suite=suite)
    assert "PASSED" in result.stdout and "test_drift[web-sg@platform-ue1-prod]" in result.stdout
    assert "2 failed, 4 passed" in result.stdout, result.stdout
    [web] = by_instance(document(tmp_path))["web-sg@platform-ue1-prod"]
    assert web["suppressed"] and web["suppression"]["origin"] == "marker" and web["suppression"]["ticket"] == "SEC-9"
    suite.write_text(MARKED_SUITE.replace('owner="sec@example.com",', ""))
    broken = run(tmp_path, "--aws-endpoint-url", moto, suite=suite)
    assert "6 error" in broken.stdout
    errors = document(tmp_path)["errors"]
    assert len(errors) == 6
    line = suite.read_text().splitlines().index("def test_drift(drift_result):") + 1
    assert all(f"{suite}:{line}: expected_drift marker: has no owner" in e["message"] for e in errors), errors


def test_warn_severity_reports_drift_and_passes_the_item(moto, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(DEMO, repo)
    (repo / "stackharness.yaml").write_text("profiles:\n  dev:\n    drift_severity: warn\n")
    drifted_demo(moto, repo, tmp_path)
    result = run(tmp_path, "--aws-endpoint-url", moto, repo=repo)
    assert "PASSED suites/test_drift.py::test_drift[app-bucket@platform-ue1-dev]" in result.stdout
    assert "2 failed" in result.stdout and "DriftWarning" in result.stdout and "tags.Purpose" in result.stdout
    findings = by_instance(document(tmp_path))
    assert [f["severity"] for f in findings["app-bucket@platform-ue1-dev"]] == ["warn"]
    assert [f["severity"] for f in findings["web-sg@platform-ue1-prod"]] == ["fail"]


def plan(drift: list) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.11.4", "resource_drift": drift,
            "prior_state": {"values": {"root_module": {"resources": [
                {"address": "aws_s3_bucket.this", "mode": "managed"}]}}}}


def test_plan_json_dir_replaces_live_reads(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    stack_set = load(DEMO, load_config({"stacks_repo": str(DEMO)}, cwd=tmp_path, environ={}))
    bucket = {"id": "b", "bucket": "b", "tags": {"Purpose": "x"}, "tags_all": {"Purpose": "x"}}
    for instance in stack_set.deployable:
        if instance.id == "web-sg@platform-ue1-dev":
            continue   # no plan written for it: an error item, never a pass
        drift = []
        if instance.id == "app-bucket@platform-ue1-prod":
            drift = [{"address": "aws_s3_bucket.this", "mode": "managed", "type": "aws_s3_bucket",
                      "change": {"actions": ["update"], "before": bucket,
                                 "after": {**bucket, "tags_all": {"Purpose": "y"}, "tags": {"Purpose": "y"}}}}]
        if instance.id == "logs-bucket@platform-ue1-dev":
            drift = [{"address": "aws_s3_bucket.this", "mode": "managed", "type": "aws_s3_bucket",
                      "change": {"actions": ["delete"], "before": bucket, "after": None}}]
        (plans / f"{instance.id}.json").write_text(json.dumps(plan(drift)))
    # No AWS endpoint at all: drift comes from the plans alone.
    result = run(tmp_path, "--plan-json-dir", str(plans))
    assert "2 failed" in result.stdout and "1 error" in result.stdout, result.stdout
    assert "no plan JSON for this instance" in result.stdout
    doc = document(tmp_path)
    assert {(f["instance"], f["kind"], f["path"]) for f in doc["findings"]} == {
        ("app-bucket@platform-ue1-prod", "changed", "tags.Purpose"), ("logs-bucket@platform-ue1-dev", "missing", "")}
    assert doc["summary"]["api_calls"]["total"] == 0
    assert [e["instance"] for e in doc["errors"]] == ["web-sg@platform-ue1-dev"]


def test_injected_throttling_changes_nothing_but_the_meter(moto, tmp_path):
    drifted_demo(moto, DEMO, tmp_path)
    clean, faulty = tmp_path / "clean", tmp_path / "faulty"
    run(clean, "--aws-endpoint-url", moto)
    result = run(faulty, "--aws-endpoint-url", moto, "--inject-aws-faults", "throttle=0.3,seed=11")
    assert result.returncode == 1, result.stdout + result.stderr

    def keyed(doc):
        return sorted((f["instance"], f["address"], f["kind"], f["path"], json.dumps(f["expected"]),
                       json.dumps(f["actual"])) for f in doc["findings"])

    baseline, throttled = document(clean), document(faulty)
    assert keyed(throttled) == keyed(baseline) and len(baseline["findings"]) == 3
    assert throttled["errors"] == [] and throttled["summary"]["checked"] == baseline["summary"]["checked"]
    assert baseline["summary"]["api_calls"]["throttled"] == 0
    assert throttled["summary"]["api_calls"]["throttled"] > 0 and throttled["summary"]["api_calls"]["retried"] > 0
    assert throttled["summary"]["api_calls"]["total"] == baseline["summary"]["api_calls"]["total"]
