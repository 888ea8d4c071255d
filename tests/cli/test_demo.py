"""`stackharness demo`: checks itself against its scenario, provisions into a given server, leaves nothing."""

from __future__ import annotations

import json

import pytest
import yaml

from harness.cli import main
from harness.demo import DEFAULT_SCENARIO

pytestmark = pytest.mark.slow


def test_demo_finds_exactly_the_scenario_twice_in_a_row(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # a second run needs no cleanup: fresh port, reports overwritten
        assert main(["demo", "--report-dir", str(tmp_path / "reports")]) == 0
        out = capsys.readouterr().out
        assert "found exactly the scenario's 3 drift(s)" in out
        assert str(tmp_path / "reports" / "drift-report.html") in out
    document = json.loads((tmp_path / "reports" / "drift.json").read_text())
    assert {f["path"] for f in document["findings"]} == {"tags.Purpose", "tags_all.ManagedBy", "ingress"}


def test_demo_exits_1_when_the_findings_differ_from_the_scenario(tmp_path, monkeypatch, capsys):
    scenario = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    scenario["repo"] = str(DEFAULT_SCENARIO.parent / scenario["repo"])
    scenario["expected"] = scenario["expected"][:2]          # one real drift is now "unexpected"
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--scenario", str(path), "--report-dir", str(tmp_path / "r")]) == 1
    assert "found but not expected" in capsys.readouterr().out


def test_provision_only_into_a_server_the_user_runs(moto, raw, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--provision-only", "--aws-endpoint-url", moto]) == 0
    assert f"--aws-endpoint-url {moto}" in capsys.readouterr().out
    keys = [o["Key"] for o in raw("s3").list_objects_v2(Bucket="acme-demo-tfstate")["Contents"]]
    assert len(keys) == 6 and all(k.endswith("terraform.tfstate") for k in keys)
    assert not (tmp_path / "reports").exists()            # nothing was run


def test_demo_passes_faults_and_budget_to_the_drift_suite_not_to_provisioning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--report-dir", str(tmp_path / "reports"),
                 "--inject-aws-faults", "throttle=0.3,seed=1"]) == 0
    assert "found exactly the scenario's 3 drift(s)" in capsys.readouterr().out
    calls = json.loads((tmp_path / "reports" / "drift.json").read_text())["summary"]["api_calls"]
    assert calls["throttled"] > 0 and calls["retried"] > 0
    # a budget too small for the suite (but not applied to provisioning, which needs far more calls)
    assert main(["demo", "--report-dir", str(tmp_path / "small"), "--api-budget", "5"]) == 1
    document = json.loads((tmp_path / "small" / "drift.json").read_text())
    assert document["summary"]["api_calls"]["total"] <= 5
    assert document["errors"], "instances the budget left unchecked are errors"
