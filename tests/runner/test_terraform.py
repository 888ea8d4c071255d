"""`stackharness run -- terraform apply` with the real Terraform binary, offline, against moto.

Components hold one `terraform_data` resource (no provider download); its `local-exec` can fail on
purpose, or wait for a peer instance to start (which proves two instances ran at the same time).
The backend locks with a lock file in the bucket (`use_lockfile`, Terraform 1.10+).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import boto3
import pytest

from harness.cli import main
from harness.config import load_config
from harness.stacks import load
from tests.scheduler.repo import write_repo
from tests.tf import requires_terraform

pytestmark = [pytest.mark.slow, pytest.mark.terraform, requires_terraform]

BUCKET, REGION = "tfstate", "us-east-1"
MAIN_TF = """
variable "stage" { type = string }
variable "value" {
  type    = string
  default = ""
}
variable "fail" {
  type    = bool
  default = false
}
variable "peer_marker" {
  type    = string
  default = ""
}
variable "own_marker" {
  type    = string
  default = ""
}

locals {
  wait_for_peer = <<-EOT
    touch '${var.own_marker}'
    i=0
    while [ ! -f '${var.peer_marker}' ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i+1)); done
    test -f '${var.peer_marker}'
  EOT
}

resource "terraform_data" "this" {
  input = "${var.stage}:${var.value}"
  provisioner "local-exec" {
    command = (var.fail ? "echo 'failing on purpose' >&2; exit 1"
               : (var.peer_marker == "" ? "true" : local.wait_for_peer))
  }
}
"""


@pytest.fixture
def offline_terraform(moto, tmp_path, monkeypatch):
    """The S3 backend on a fresh moto server, and an environment in which terraform needs no network."""
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("")
    for name in [n for n in os.environ if n.startswith("TF_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(cli_config))
    monkeypatch.setenv("AWS_REGION", REGION)
    return moto, s3


def make_repo(root: Path, stacks, component_vars) -> Path:
    return write_repo(root, stacks, main_tf=lambda _: MAIN_TF, component_vars=component_vars,
                      backend={"bucket": BUCKET, "key": "terraform.tfstate", "region": REGION,
                               "use_lockfile": True})


def run(capsys, repo: Path, endpoint: str, reports: Path, *args: str) -> tuple[int, dict, str]:
    code = main(["run", "--stacks-repo", str(repo), "--aws-endpoint-url", endpoint, "--report-dir", str(reports),
                 *args])
    out = capsys.readouterr().out
    document = json.loads(sorted(reports.glob("run-*.json"))[-1].read_text())
    return code, {e["id"]: e for e in document["instances"]}, out


def state_of(s3, repo: Path, instance: str) -> dict | None:
    stack_set = load(repo, load_config({"stacks_repo": str(repo)}, cwd=repo, environ={}))
    key = stack_set.get(instance).state_key
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_apply_in_order_two_instances_at_once_then_a_second_apply_is_a_no_op(offline_terraform, tmp_path, capsys):
    endpoint, s3 = offline_terraform
    markers = tmp_path / "markers"
    markers.mkdir()

    def component_vars(stack, component):
        if component == "pair":    # pair@dev and pair@prod each wait until the other has started
            peer = "prod" if stack == "dev" else "dev"
            return {"own_marker": str(markers / stack), "peer_marker": str(markers / peer)}
        return {"value": f"{component}-v1"}

    repo = make_repo(tmp_path / "repo", {s: {"net": [], "app": ["net"], "pair": []} for s in ("dev", "prod")},
                     component_vars)
    reports = tmp_path / "reports"
    code, first, out = run(capsys, repo, endpoint, reports, "--concurrency", "4", "--yes", "--", "terraform", "apply")
    assert code == 0, out + json.dumps(first, indent=1)
    for stack in ("dev", "prod"):
        assert when(first[f"app@{stack}"]["started"]) >= when(first[f"net@{stack}"]["finished"])
        for component in ("net", "app", "pair"):
            state = state_of(s3, repo, f"{component}@{stack}")
            values = [r["instances"][0]["attributes"]["input"]["value"] for r in state["resources"]]
            assert values == [f"{stack}:{component}-v1" if component != "pair" else f"{stack}:"]
    # Each instance had its own working directory and .terraform/.
    work = reports / "work"
    assert (work / "pair@dev" / ".terraform").is_dir() and (work / "pair@prod" / ".terraform").is_dir()
    serials = {i: state_of(s3, repo, i)["serial"] for i in first}

    code, second, out = run(capsys, repo, endpoint, reports, "--yes", "--", "terraform", "apply")
    assert code == 0, out
    assert {i: state_of(s3, repo, i)["serial"] for i in second} == serials      # nothing was written
    for entry in second.values():
        log = Path(entry["log"]).read_text()
        assert "No changes." in log and "$ terraform init" not in log            # initialised once


def test_a_failing_component_isolates_exactly_its_dependents(offline_terraform, tmp_path, capsys):
    endpoint, s3 = offline_terraform
    repo = make_repo(tmp_path / "repo", {"dev": {"base": [], "mid": ["base"], "top": ["mid"], "side": ["base"]}},
                     lambda stack, component: {"value": component, "fail": component == "mid"})
    code, runs, _ = run(capsys, repo, endpoint, tmp_path / "reports", "--yes", "--", "terraform", "apply")
    assert code == 1
    assert {i: e["status"] for i, e in runs.items()} == {"base@dev": "ok", "mid@dev": "failed", "top@dev": "skipped",
                                                         "side@dev": "ok"}
    assert runs["mid@dev"]["reason"].startswith("terraform apply exited 1: local-exec provisioner error")
    assert runs["top@dev"]["reason"].startswith("dependency mid@dev failed: terraform apply exited 1")
    assert "failing on purpose" in Path(runs["mid@dev"]["log"]).read_text()
    assert state_of(s3, repo, "top@dev") is None and state_of(s3, repo, "side@dev") is not None


def test_drift_writes_refresh_only_plans_as_json_for_the_drift_suite(offline_terraform, tmp_path, capsys):
    endpoint, _ = offline_terraform
    repo = make_repo(tmp_path / "repo", {"dev": {"net": [], "app": ["net"]}},
                     lambda stack, component: {"value": component})
    reports, plans = tmp_path / "reports", tmp_path / "plans"
    assert run(capsys, repo, endpoint, reports, "--yes", "--", "terraform", "apply")[0] == 0
    code, runs, out = run(capsys, repo, endpoint, reports, "--drift", "--plan-json-dir", str(plans),
                          "--", "terraform", "plan")
    assert code == 0, out
    assert f"--plan-json-dir {plans}" in out
    for instance in ("net@dev", "app@dev"):
        document = json.loads((plans / f"{instance}.json").read_text())
        assert document["format_version"] and not document.get("resource_drift")
        log = Path(runs[instance]["log"]).read_text()
        assert "-refresh-only" in log and "-out=stackharness-drift.tfplan" in log
    from harness.drift.plan import read_plan, result_from_plan
    from harness.inventory.registry import RESOURCE_TYPES
    from harness.log import Redactor
    stack_set = load(repo, load_config({"stacks_repo": str(repo)}, cwd=repo, environ={}))
    result = result_from_plan(read_plan(plans / "app@dev.json"), stack_set.get("app@dev"), RESOURCE_TYPES,
                              severity="fail", redactor=Redactor())
    assert result.findings == () and result.errors == ()


def test_drift_needs_a_plan_command(offline_terraform, tmp_path, capsys):
    endpoint, _ = offline_terraform
    repo = make_repo(tmp_path / "repo", {"dev": {"net": []}}, lambda stack, component: {})
    code = main(["run", "--stacks-repo", str(repo), "--aws-endpoint-url", endpoint, "--drift", "--yes",
                 "--", "terraform", "apply"])
    assert code == 2 and "--drift runs `terraform plan -refresh-only`" in capsys.readouterr().err
