"""`stackharness graph`, `what-if` and `describe dependents|affected` on real repositories on disk."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from tests.graph.helpers import PLATFORM_REPO, write_repo

DEV = "stacks/deploy/dev.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "infra", PLATFORM_REPO)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def describe(capsys, *argv: str) -> tuple[int, str, str]:
    return run(capsys, "describe", *argv)


def _edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _git(cwd: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


# -- graph ----------------------------------------------------------------------------------------
def test_graph_json_of_a_healthy_repository(repo, capsys):
    code, out, _ = run(capsys, "graph", "--stacks-repo", str(repo))
    assert code == 0
    data = json.loads(out)
    assert data["batches"] == [["dns@ue1-prod", "vpc@ue1-dev", "vpc@ue1-prod"],
                               ["subnet@ue1-dev", "subnet@ue1-prod"], ["app@ue1-dev", "app@ue1-prod"]]
    assert {"from": "subnet@ue1-dev", "to": "app@ue1-dev"} in data["edges"]   # settings.depends_on
    assert {"from": "vpc@ue1-dev", "to": "subnet@ue1-dev"} in data["edges"]   # dependencies.components
    assert data["critical_path"] == ["vpc@ue1-dev", "subnet@ue1-dev", "app@ue1-dev"]
    assert data["cycles"] == [] and data["errors"] == []


def test_graph_with_a_cycle_exits_1_and_still_writes_the_json(repo, capsys, tmp_path):
    _edit(repo, "stacks/catalog/vpc.yaml", "vars: {cidr: 10.0.0.0/16}",
          "vars: {cidr: 10.0.0.0/16}\n      dependencies:\n        components: [{component: app}]")
    output = tmp_path / "out/graph.json"
    code, _, err = run(capsys, "graph", "--stacks-repo", str(repo), "--output", str(output))
    assert code == 1
    data = json.loads(output.read_text())
    assert data["cycles"] == [["app@ue1-dev", "vpc@ue1-dev", "subnet@ue1-dev"],
                              ["app@ue1-prod", "vpc@ue1-prod", "subnet@ue1-prod"]]
    assert data["batches"] == [["dns@ue1-prod"]]
    assert "cycle: app@ue1-dev -> vpc@ue1-dev -> subnet@ue1-dev -> app@ue1-dev" in err


def test_graph_with_a_missing_dependency_reports_it_once(repo, capsys):
    _edit(repo, "stacks/deploy/prod.yaml", "vars: {zone: example.com}",
          "vars: {zone: example.com}\n      dependencies:\n        components: [{component: vpcc}]")
    code, out, err = run(capsys, "graph", "--stacks-repo", str(repo))
    assert code == 1
    errors = json.loads(out)["errors"]
    assert [e["id"] for e in errors] == ["dns@ue1-prod"]
    assert "vpcc@ue1-prod" in errors[0]["message"]
    assert "dependency error in dns@ue1-prod" in err


@pytest.mark.parametrize(("fmt", "marker"), [("mermaid", "flowchart LR"), ("dot", "digraph dependencies"),
                                             ("html", "<!DOCTYPE html>")])
def test_graph_pictures(repo, capsys, tmp_path, fmt, marker):
    output = tmp_path / f"graph.{fmt}"
    code, _, err = run(capsys, "graph", "--stacks-repo", str(repo), "--format", fmt, "-o", str(output))
    assert code == 0
    assert output.read_text().startswith(marker)
    assert "wrote" in err


def test_graph_of_a_selection_with_its_dependencies(repo, capsys):
    code, out, _ = run(capsys, "graph", "--stacks-repo", str(repo), "--instance", "app@ue1-dev",
                       "--include-dependencies")
    assert code == 0
    assert json.loads(out)["batches"] == [["vpc@ue1-dev"], ["subnet@ue1-dev"], ["app@ue1-dev"]]


def test_graph_unknown_instance_is_a_usage_error(repo, capsys):
    code, _, err = run(capsys, "graph", "--stacks-repo", str(repo), "--instance", "app@ue1-dve")
    assert code == 2
    assert "did you mean app@ue1-dev" in err


# -- what-if --------------------------------------------------------------------------------------
def test_what_if_changed_file_json(repo, capsys):
    code, out, _ = run(capsys, "what-if", "--stacks-repo", str(repo), "--changed-file", DEV,
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [a["id"] for a in data["affected"]] == ["app@ue1-dev", "subnet@ue1-dev", "vpc@ue1-dev"]
    assert data["affected"][0]["reasons"] == [f"file {DEV}"]
    assert data["dependents"] == [] and data["moved"] == []


def test_what_if_changed_terraform_file(repo, capsys):
    code, out, _ = run(capsys, "what-if", "--stacks-repo", str(repo), "--format", "json",
                       "--changed-file", "components/terraform/vpc/main.tf")
    assert code == 0
    data = json.loads(out)
    assert [a["id"] for a in data["affected"]] == ["vpc@ue1-dev", "vpc@ue1-prod"]
    assert data["dependents"] == ["app@ue1-dev", "app@ue1-prod", "subnet@ue1-dev", "subnet@ue1-prod"]


def test_what_if_new_cycle_exits_1_with_a_text_table(repo, capsys):
    code, out, _ = run(capsys, "what-if", "--stacks-repo", str(repo), "--add-dep", "app@ue1-dev=>vpc@ue1-dev")
    assert code == 1
    assert "new cycle: app@ue1-dev -> vpc@ue1-dev -> subnet@ue1-dev -> app@ue1-dev" in out
    assert "| vpc@ue1-dev" in out and "new dependency on app@ue1-dev" in out
    assert "\x1b[" not in out     # not a terminal: no colour codes


def test_what_if_removing_a_dependency_moves_batches(repo, capsys):
    code, out, _ = run(capsys, "what-if", "--stacks-repo", str(repo), "--format", "json",
                       "--remove-dep", "vpc@ue1-dev=>subnet@ue1-dev", "--changed", "dns@ue1-prod")
    assert code == 0
    data = json.loads(out)
    assert {m["id"]: (m["from"], m["to"]) for m in data["moved"]} == {
        "subnet@ue1-dev": (1, 0), "app@ue1-dev": (2, 1)}
    assert [a["id"] for a in data["affected"]] == ["dns@ue1-prod", "subnet@ue1-dev"]


def test_what_if_without_a_change_is_a_usage_error(repo, capsys):
    code, _, err = run(capsys, "what-if", "--stacks-repo", str(repo))
    assert code == 2 and "what-if needs a change" in err


def test_what_if_against_a_base_dir(repo, capsys, tmp_path):
    base = write_repo(tmp_path / "base", PLATFORM_REPO)
    _edit(repo, "stacks/catalog/app.yaml", "replicas: 2", "replicas: 3")
    _edit(repo, "components/terraform/vpc/main.tf", "# vpc", "# vpc v2")
    code, out, _ = run(capsys, "what-if", "--stacks-repo", str(repo), "--base-dir", str(base),
                       "--format", "json")
    assert code == 0
    reasons = {a["id"]: a["reasons"] for a in json.loads(out)["affected"]}
    assert reasons == {"app@ue1-dev": ["section vars"], "app@ue1-prod": ["section vars"],
                       "vpc@ue1-dev": ["component folder vpc"], "vpc@ue1-prod": ["component folder vpc"]}


def test_what_if_against_a_git_ref(tmp_path, capsys):
    work = write_repo(tmp_path / "work", {f"infra/{k}": v for k, v in PLATFORM_REPO.items()})
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "base")
    repo = work / "infra"
    _edit(repo, "stacks/deploy/prod.yaml", "vars: {zone: example.com}",
          "vars: {zone: example.com}\n      env: {TF_LOG: debug}\n      dependencies:\n"
          "        components: [{component: app}]")
    code, out, _ = run(capsys, "what-if", "--stacks-repo", str(repo), "--ref", "main", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["affected"] == [{"id": "dns@ue1-prod", "reasons": ["section env"]}]
    assert data["moved"] == [{"id": "dns@ue1-prod", "from": 0, "to": 3}]
    assert data["critical_path_before"] == ["vpc@ue1-dev", "subnet@ue1-dev", "app@ue1-dev"]
    assert data["critical_path_after"] == ["vpc@ue1-prod", "subnet@ue1-prod", "app@ue1-prod", "dns@ue1-prod"]


def test_what_if_unknown_ref_is_an_error(repo, capsys):
    _git(repo, "init", "-q", "-b", "main")
    code, _, err = run(capsys, "what-if", "--stacks-repo", str(repo), "--ref", "nope")
    assert code == 2 and "'nope' is not a commit" in err


# -- describe -------------------------------------------------------------------------------------
def test_describe_dependents(repo, capsys):
    code, out, _ = describe(capsys, "dependents", "vpc", "-s", "ue1-dev", "--stacks-repo", str(repo))
    assert code == 0
    assert json.loads(out) == [{
        "component": "subnet", "component_type": "terraform", "component_path": "components/terraform/subnet",
        "environment": "ue1", "stage": "dev", "stack": "ue1-dev", "stack_slug": "ue1-dev-subnet",
        "dependents": None, "included_in_dependents": False, "settings": None}]


def test_describe_dependents_nested_as_yaml(repo, capsys):
    code, out, _ = describe(capsys, "dependents", "vpc", "-s", "ue1-dev", "--stacks-repo", str(repo),
                            "--include-dependents", "--format", "yaml")
    assert code == 0
    assert "stack_slug: ue1-dev-subnet" in out and "stack_slug: ue1-dev-app" in out


def test_describe_affected_against_a_base_dir(repo, capsys, tmp_path):
    base = write_repo(tmp_path / "base", PLATFORM_REPO)
    _edit(repo, "stacks/catalog/vpc.yaml", "cidr: 10.0.0.0/16", "cidr: 10.9.0.0/16")
    code, out, _ = describe(capsys, "affected", "--stacks-repo", str(repo), "--base-dir", str(base),
                            "--include-dependents")
    assert code == 0
    data = json.loads(out)
    assert [(a["stack_slug"], a["affected"], a["affected_all"]) for a in data] == [
        ("ue1-dev-vpc", "stack.vars", ["stack.vars"]), ("ue1-prod-vpc", "stack.vars", ["stack.vars"])]
    assert [d["stack_slug"] for d in data[0]["dependents"]] == ["ue1-dev-subnet"]
    assert [d["stack_slug"] for d in data[0]["dependents"][0]["dependents"]] == ["ue1-dev-app"]
