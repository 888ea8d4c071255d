"""Every drift scenario in fixtures/scenarios: provisioned on moto, changed out of band, checked by the
real drift suite (a pytest subprocess), and its findings compared with the expectation exactly.

To keep this fast, scenarios of the same repo whose changes and expected findings concern disjoint
sets of instances share one provisioning and one suite run: an instance's drift depends only on its
own resources, so each scenario must still find exactly its expected drift on its instances, and the
instances no scenario of the batch touches must have none. A scenario without changes, or one that
expects unmanaged resources (account-wide), runs alone. `stackharness scenario run` always runs one
scenario per provisioning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.demo import SOURCE_ROOT, apply_scenario, provision
from harness.drift.scenarios import Scenario, compare_outcome, load_scenario
from harness.inventory.registry import RESOURCE_TYPES
from harness.report.drift_json import read_document
from harness.stacks import load

pytestmark = pytest.mark.slow

SCENARIO_DIR = SOURCE_ROOT / "fixtures" / "scenarios"
SCENARIOS = [load_scenario(p) for p in sorted(SCENARIO_DIR.glob("*.yaml"))]
SUITE = SOURCE_ROOT / "suites" / "test_drift.py"
# Plugins the suite does not need; leaving them out halves the subprocess's start-up.
LEAN = ("-p", "no:cacheprovider", "-p", "no:allure_pytest", "-p", "no:hypothesispytest")


def instances_of(scenario: Scenario) -> set[str]:
    return {m.instance for m in scenario.mutations} | {key[0] for key in scenario.expected}


def runs_alone(scenario: Scenario) -> bool:
    return not scenario.mutations or any(key[2] == "unmanaged" for key in scenario.expected)


def batches(scenarios: list[Scenario]) -> list[list[Scenario]]:
    """Greedy packing of scenarios into groups of the same repo with disjoint instances."""
    groups: list[list[Scenario]] = []
    for scenario in scenarios:
        for group in groups:
            if (not runs_alone(scenario) and not runs_alone(group[0]) and group[0].repo == scenario.repo
                    and all(not instances_of(scenario) & instances_of(other) for other in group)):
                group.append(scenario)
                break
        else:
            groups.append([scenario])
    return groups


BATCHES = batches(SCENARIOS)


def run_suite(endpoint: str, repo: Path, report_dir: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", str(SUITE), "-q", *LEAN, "--stacks-repo", str(repo),
               "--aws-endpoint-url", endpoint, "--report-dir", str(report_dir)]
    return subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=dict(os.environ),
                          timeout=300, check=False)


@pytest.mark.parametrize("batch", BATCHES, ids=["+".join(s.name for s in b) for b in BATCHES])
def test_scenarios_find_exactly_the_expected_drift(batch, moto, tmp_path):
    repo = batch[0].repo
    config = load_config({"aws_endpoint_url": moto, "stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    pool, stack_set = SessionPool(config), load(repo, config)
    provisioned = provision(pool, stack_set)
    for scenario in batch:
        apply_scenario(pool, stack_set, provisioned, scenario)
    result = run_suite(moto, repo, tmp_path)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    document = read_document(tmp_path / "drift.json")
    assert document["errors"] == [] and document["summary"]["errors"] == 0, document["errors"]
    findings = document["findings"]
    owner = {"stack " + (f.get("stack") or "-") if f["instance"] is None else f["instance"] for f in findings}
    touched = set().union(*(instances_of(s) for s in batch))
    assert owner <= touched, f"drift on instances no scenario changed: {sorted(owner - touched)}"
    for scenario in batch:
        mine = instances_of(scenario)
        outcome = compare_outcome(scenario, [f for f in findings if (f["instance"] or
                                                                     "stack " + (f.get("stack") or "-")) in mine], [])
        assert outcome.matched, (scenario.name, outcome)
    # Drift fails items; a clean run passes them all.
    assert (result.returncode == 1) == any(s.expected for s in batch), result.stdout


def test_batches_cover_every_scenario_once():
    assert sorted(s.name for b in BATCHES for s in b) == sorted(s.name for s in SCENARIOS)
    for batch in BATCHES:
        for i, first in enumerate(batch):
            for second in batch[i + 1:]:
                assert not instances_of(first) & instances_of(second)


def test_every_supported_type_has_a_scenario_and_the_lab_holds_them_all():
    scenario_types = {key[1].split(".")[0] for scenario in SCENARIOS for key in scenario.expected}
    assert set(RESOURCE_TYPES) <= scenario_types, sorted(set(RESOURCE_TYPES) - scenario_types)
    lab = "\n".join(p.read_text() for p in (SOURCE_ROOT / "fixtures" / "lab").rglob("stackharness-emulation.yaml"))
    for rtype in RESOURCE_TYPES:
        assert f"address: {rtype}." in lab, rtype
    assert any(not s.mutations and s.repo.name == "lab" for s in SCENARIOS), "a no-drift scenario on the lab"


def test_cli_runs_each_scenario_on_a_fresh_embedded_moto_and_exits_1_unless_all_match(tmp_path):
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(f"""
name: wrong
repo: {SOURCE_ROOT / "fixtures" / "lab"}
mutations:
  - op: change_attribute
    target: {{instance: messaging@core-ue1-test, address: aws_sns_topic.this}}
    attribute: display_name
    value: renamed
expected:
  - {{instance: messaging@core-ue1-test, address: aws_sns_topic.this, kind: changed, path: policy}}
""")
    result = subprocess.run([sys.executable, "-m", "harness.cli", "scenario", "run",
                             str(SCENARIO_DIR / "lab-sqs-queue.yaml"), str(wrong), "--report-dir", str(tmp_path)],
                            capture_output=True, text=True, env=dict(os.environ), timeout=300, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "match  lab-sqs-queue" in result.stdout and "1/2 scenario(s) matched" in result.stdout
    # The second scenario ran on a reset server: the first one's change is not in its findings.
    document = json.loads((tmp_path / "scenarios" / "wrong" / "drift.json").read_text())
    assert [(f["address"], f["path"]) for f in document["findings"]] == [("aws_sns_topic.this", "display_name")]
    assert "expected but not found: messaging@core-ue1-test aws_sns_topic.this changed policy" in result.stdout
    assert "found but not expected: messaging@core-ue1-test aws_sns_topic.this changed display_name" in result.stdout


def test_cli_refuses_several_scenarios_on_a_given_endpoint(moto, tmp_path):
    files = [str(SCENARIO_DIR / "lab-vpc.yaml"), str(SCENARIO_DIR / "lab-subnet.yaml")]
    result = subprocess.run([sys.executable, "-m", "harness.cli", "scenario", "run", *files,
                             "--aws-endpoint-url", moto], capture_output=True, text=True, env=dict(os.environ),
                            timeout=120, check=False)
    assert result.returncode == 2
    assert "one scenario at a time" in result.stderr
