"""The drift suite end to end: demo provisioned on moto, `pytest suites` in a subprocess, drift.json checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.demo import DEFAULT_SCENARIO, SOURCE_ROOT, apply_scenario, provision
from harness.drift.scenarios import compare_outcome, load_scenario
from harness.stacks import load

pytestmark = pytest.mark.slow


def run_suite(endpoint: str, report_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", str(SOURCE_ROOT / "suites" / "test_drift.py"), "-q",
               "-p", "no:cacheprovider", "--stacks-repo", str(SOURCE_ROOT / "fixtures" / "demo"),
               "--aws-endpoint-url", endpoint, "--report-dir", str(report_dir), *extra]
    return subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=dict(os.environ),
                          timeout=300, check=False)


@pytest.fixture
def demo(moto, tmp_path):
    """The demo repo provisioned on a fresh moto server; returns (endpoint, stack set, provisioned)."""
    config = load_config({"aws_endpoint_url": moto, "stacks_repo": str(SOURCE_ROOT / "fixtures" / "demo")},
                         cwd=tmp_path, environ={})
    pool = SessionPool(config)
    stack_set = load(config.stacks_repo, config)
    return moto, stack_set, provision(pool, stack_set), pool


def test_clean_environment_has_no_findings_and_every_instance_passes(demo, tmp_path):
    endpoint, stack_set, _, _ = demo
    result = run_suite(endpoint, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads((tmp_path / "drift.json").read_text())
    assert document["schema"] == "stackharness.drift/v1"
    assert document["findings"] == [] and document["errors"] == []
    assert document["summary"]["instances"] == len(stack_set.deployable)
    assert document["summary"]["checked"] == document["summary"]["resources"] == len(stack_set.deployable)
    assert (tmp_path / "drift-report.html").is_file()


def test_scenario_drift_is_found_exactly_and_fails_the_items(demo, tmp_path):
    endpoint, stack_set, provisioned, pool = demo
    scenario = load_scenario(DEFAULT_SCENARIO)
    apply_scenario(pool, stack_set, provisioned, scenario)
    result = run_suite(endpoint, tmp_path, "-n", "2")
    assert result.returncode == 1
    assert "3 failed" in result.stdout, result.stdout
    document = json.loads((tmp_path / "drift.json").read_text())
    outcome = compare_outcome(scenario, document["findings"], document["errors"])
    assert outcome.matched, outcome
    assert document["run"]["workers"] == 2
    # The failure message is a readable table naming the path and both sides.
    assert "tags.Purpose" in result.stdout and "scratch" in result.stdout


def test_missing_state_is_an_error_item_not_a_pass(demo, tmp_path, raw):
    endpoint, stack_set, _, _ = demo
    victim = stack_set.get("web-sg@platform-ue1-dev")
    raw("s3").delete_object(Bucket=victim.state_bucket, Key=victim.state_key)
    result = run_suite(endpoint, tmp_path)
    assert result.returncode == 1
    assert "1 error" in result.stdout, result.stdout
    document = json.loads((tmp_path / "drift.json").read_text())
    assert [e["instance"] for e in document["errors"]] == [victim.id]
    assert "no state at this key" in document["errors"][0]["message"]


CRASH_PLUGIN = """
import os

def _crash(item, when):
    callspec = getattr(item, "callspec", None)
    component = callspec.params.get("component") if callspec else None
    if os.environ.get("CRASH_WHEN") == when and getattr(component, "id", None) == os.environ["CRASH_ID"]:
        os._exit(3)

def pytest_runtest_setup(item):
    _crash(item, "setup")

def pytest_runtest_call(item):
    _crash(item, "call")
"""


@pytest.mark.parametrize("when", ["setup", "call"])
def test_a_worker_crash_is_an_error_entry_for_its_instance_never_dropped(demo, tmp_path, when):
    endpoint, stack_set, _, _ = demo
    (tmp_path / "crashplugin.py").write_text(CRASH_PLUGIN)
    instances = sorted(i.id for i in stack_set.deployable)
    crashed = instances[0]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "CRASH_ID": crashed, "CRASH_WHEN": when}
    command = [sys.executable, "-m", "pytest", str(SOURCE_ROOT / "suites" / "test_drift.py"), "-q",
               "-p", "no:cacheprovider", "-p", "crashplugin", "-n", "2",
               "--stacks-repo", str(SOURCE_ROOT / "fixtures" / "demo"),
               "--aws-endpoint-url", endpoint, "--report-dir", str(tmp_path)]
    result = subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=env, timeout=300,
                            check=False)
    assert result.returncode == 1 and "crashed while running" in result.stdout, result.stdout + result.stderr
    document = json.loads((tmp_path / "drift.json").read_text())
    assert document["run"]["instances"] == instances
    mine = [e for e in document["errors"] if e["instance"] == crashed]
    assert len(mine) == 1 and mine[0]["message"].startswith(f"worker crashed while checking {crashed} (")
    assert document["summary"]["errors"] == len(document["errors"])
