"""What-if analysis for each kind of input, on hand-built stack sets and a real temporary git repo."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.graph import DependencyGraph, GraphError
from harness.whatif import (
    ChangeSet,
    GitRefError,
    Reason,
    affected_by_files,
    checkout_ref,
    compare_stacksets,
    parse_dependency_change,
    what_if,
)
from tests.graph.helpers import instance, stackset


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository layout on disk: two catalog files and two Terraform folders."""
    for folder in ("stacks/catalog", "stacks/dev", "components/terraform/vpc", "components/terraform/app"):
        (tmp_path / folder).mkdir(parents=True)
    for path in ("stacks/catalog/vpc.yaml", "stacks/catalog/app.yaml", "stacks/dev/main.yaml",
                 "components/terraform/vpc/main.tf", "components/terraform/app/main.tf"):
        (tmp_path / path).write_text(f"# {path}\n")
    return tmp_path


def platform(repo: Path, **overrides: dict) -> tuple:
    """vpc@dev -> subnet@dev -> app@dev, plus a lone dns@dev; sources and folders point into `repo`."""
    main = str(repo / "stacks/dev/main.yaml")

    def make(instance_id: str, *deps: str, catalog: str, folder: str):
        fields = {"sources": (main, str(repo / f"stacks/catalog/{catalog}.yaml")),
                  "component_path": str(repo / f"components/terraform/{folder}"),
                  "terraform_component": folder, "vars": {"name": instance_id}}
        fields.update(overrides.get(instance_id, {}))
        return instance(instance_id, *deps, **fields)

    return (make("vpc@dev", catalog="vpc", folder="vpc"),
            make("subnet@dev", "vpc@dev", catalog="vpc", folder="vpc"),
            make("app@dev", "subnet@dev", catalog="app", folder="app"),
            make("dns@dev", catalog="app", folder="app"))


def test_changed_instance_lists_its_transitive_dependents(repo):
    result = what_if(stackset(*platform(repo), repo=str(repo)), ChangeSet(instances=("vpc@dev",)))
    assert result.affected == {"vpc@dev": (Reason("changed"),)}
    assert result.dependents == ("app@dev", "subnet@dev")
    assert result.moved == () and result.new_cycles == ()
    assert result.to_dict()["batches_before"] == result.to_dict()["batches_after"]


def test_unknown_changed_instance_is_an_error(repo):
    with pytest.raises(GraphError, match="did you mean vpc@dev"):
        what_if(stackset(*platform(repo), repo=str(repo)), ChangeSet(instances=("vcp@dev",)))


def test_changed_catalog_file_affects_the_instances_importing_it(repo):
    result = what_if(stackset(*platform(repo), repo=str(repo)),
                     ChangeSet(files=("stacks/catalog/vpc.yaml",)))
    assert result.affected == {"subnet@dev": (Reason("file", "stacks/catalog/vpc.yaml"),),
                               "vpc@dev": (Reason("file", "stacks/catalog/vpc.yaml"),)}
    assert result.dependents == ("app@dev",)
    assert result.to_dict()["affected"][1] == {"id": "vpc@dev", "reasons": ["file stacks/catalog/vpc.yaml"]}


def test_changed_terraform_file_affects_instances_of_that_folder(repo):
    stacks = stackset(*platform(repo), repo=str(repo))
    reasons, unmatched = affected_by_files(stacks, [str(repo / "components/terraform/app/main.tf"),
                                                    "stacks/nowhere.yaml"])
    assert set(reasons) == {"app@dev", "dns@dev"}
    assert reasons["dns@dev"] == [Reason("folder", "components/terraform/app/main.tf")]
    assert unmatched == ("stacks/nowhere.yaml",)


def test_shared_file_affects_everything_that_imports_it(repo):
    reasons, _ = affected_by_files(stackset(*platform(repo), repo=str(repo)), ["stacks/dev/main.yaml"])
    assert sorted(reasons) == ["app@dev", "dns@dev", "subnet@dev", "vpc@dev"]


def test_base_comparison_names_the_changed_section(repo):
    base = stackset(*platform(repo), repo=str(repo))
    current = stackset(*platform(repo, **{
        "vpc@dev": {"vars": {"name": "vpc@dev", "cidr": "10.1.0.0/16"}},
        "dns@dev": {"env": {"TF_LOG": "debug"}, "settings": {"team": "net"}},
        "app@dev": {"backend": {"bucket": "other"}, "providers": {"aws": {"region": "eu-west-1"}}},
    }), repo=str(repo))
    reasons = compare_stacksets(base, current)
    assert reasons == {
        "vpc@dev": [Reason("section", "vars")],
        "dns@dev": [Reason("section", "env"), Reason("section", "settings")],
        "app@dev": [Reason("section", "backend"), Reason("section", "providers")],
    }
    assert [r.atmos for r in reasons["dns@dev"]] == ["stack.env", "stack.settings"]


def test_base_comparison_sees_component_folder_content(repo, tmp_path_factory):
    other = tmp_path_factory.mktemp("base")
    (other / "vpc").mkdir()
    (other / "vpc/main.tf").write_text("# old\n")
    (other / "app").mkdir()
    (other / "app/main.tf").write_text("# components/terraform/app/main.tf\n")
    base = stackset(*[dataclasses.replace(i, component_path=str(other / i.terraform_component))
                      for i in platform(repo)], repo=str(other))
    current = stackset(*platform(repo), repo=str(repo))
    reasons = compare_stacksets(base, current)
    assert reasons == {"vpc@dev": [Reason("component", "vpc")], "subnet@dev": [Reason("component", "vpc")]}
    assert reasons["vpc@dev"][0].atmos == "component"


def test_base_comparison_reports_added_and_removed_instances_and_moves(repo):
    vpc, subnet, app, dns = platform(repo)
    base = stackset(vpc, subnet, app, dns, instance("old@dev"), repo=str(repo))
    current = stackset(vpc, subnet, dataclasses.replace(app, dependencies=("dns@dev",)), dns,
                       instance("new@dev", "app@dev"), repo=str(repo))
    result = what_if(current, base=base)
    assert result.affected["old@dev"] == (Reason("removed"),)
    assert result.affected["new@dev"] == (Reason("added"),)
    assert "app@dev" not in result.affected   # dependencies are not a compared section
    assert [(m.id, m.before, m.after) for m in result.moved] == [("app@dev", 2, 1)]
    assert result.critical_path_before == ("vpc@dev", "subnet@dev", "app@dev")
    assert result.critical_path_after == ("dns@dev", "app@dev", "new@dev")


def test_hypothetical_dependency_that_creates_a_cycle(repo):
    stacks = stackset(*platform(repo), repo=str(repo))
    result = what_if(stacks, ChangeSet(add_dependencies=(parse_dependency_change("app@dev=>vpc@dev"),)))
    assert result.creates_cycle
    assert result.new_cycles == (("app@dev", "vpc@dev", "subnet@dev"),)
    assert result.affected == {"vpc@dev": (Reason("dependency-added", "app@dev"),)}
    assert str(result.affected["vpc@dev"][0]) == "new dependency on app@dev"
    assert {m.id: (m.before, m.after) for m in result.moved} == {
        "vpc@dev": (0, None), "subnet@dev": (1, None), "app@dev": (2, None)}
    assert result.critical_path_after == ("dns@dev",)
    data = result.to_dict()
    assert data["batches_after"] == [["dns@dev"]]
    assert data["new_cycles"] == [["app@dev", "vpc@dev", "subnet@dev"]]


def test_removing_a_dependency_removes_a_cycle_and_shortens_the_path(repo):
    vpc, subnet, app, dns = platform(repo)
    looped = stackset(dataclasses.replace(vpc, dependencies=("app@dev",)), subnet, app, dns, repo=str(repo))
    result = what_if(looped, ChangeSet(remove_dependencies=(("app@dev", "vpc@dev"),
                                                            ("subnet@dev", "app@dev"))))
    assert result.removed_cycles == (("app@dev", "vpc@dev", "subnet@dev"),)
    assert not result.creates_cycle
    assert result.to_dict()["batches_after"] == [["app@dev", "dns@dev", "vpc@dev"], ["subnet@dev"]]
    assert result.critical_path_length_after == 2


def test_json_contract_keys(repo):
    data = what_if(stackset(*platform(repo), repo=str(repo)), ChangeSet(instances=("dns@dev",))).to_dict()
    assert list(data) == ["affected", "dependents", "batches_before", "batches_after", "moved",
                          "new_cycles", "removed_cycles", "critical_path_before", "critical_path_after"]


def test_graph_can_be_reused(repo):
    stacks = stackset(*platform(repo), repo=str(repo))
    graph = DependencyGraph.build(stacks)
    result = what_if(stacks, ChangeSet(files=("stacks/catalog/app.yaml",)), graph=graph)
    assert result.before is graph and result.after is graph


@pytest.mark.parametrize("text", ["vpc@dev", "vpc@dev=>", "vpc=>subnet@dev", "=>x@y"])
def test_malformed_dependency_changes_are_usage_errors(text):
    with pytest.raises(UsageError, match="X@STACK=>Y@STACK"):
        parse_dependency_change(text)


# -- git refs -------------------------------------------------------------------------------------
def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout


def test_checkout_ref_extracts_the_tree_at_that_ref(tmp_path):
    (tmp_path / "infra/stacks").mkdir(parents=True)
    (tmp_path / "infra/stacks/a.yaml").write_text("old\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "infra/stacks/a.yaml").write_text("new\n")
    (tmp_path / "infra/stacks/b.yaml").write_text("added\n")
    with checkout_ref(tmp_path / "infra", "main") as old:
        assert old.name == "infra"
        assert (old / "stacks/a.yaml").read_text() == "old\n"
        assert not (old / "stacks/b.yaml").exists()
        kept = old
    assert not kept.exists()
    assert (tmp_path / "infra/stacks/a.yaml").read_text() == "new\n"   # the work tree is untouched
    assert _git(tmp_path, "worktree", "list").count("\n") == 1


def test_checkout_ref_errors_name_the_ref(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    with pytest.raises(GitRefError, match="'nope' is not a commit"), checkout_ref(tmp_path, "nope"):
        pass
    outside = tmp_path.parent / f"{tmp_path.name}-plain"
    outside.mkdir()
    with pytest.raises(GitRefError, match="not inside a git repository"), checkout_ref(outside, "main"):
        pass


def test_text_table_is_coloured_on_a_terminal_only(repo):
    from rich.console import Console

    from harness.cli.whatif import render_text

    result = what_if(stackset(*platform(repo), repo=str(repo)), ChangeSet(instances=("vpc@dev",)))
    plain = render_text(result, Console(no_color=True, width=120))
    coloured = render_text(result, Console(force_terminal=True, color_system="standard", width=120))
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert "| vpc@dev    | changed   | named with --changed" in plain
    assert "| subnet@dev | dependent | via vpc@dev" in plain
    assert plain.startswith("**What if**: 1 affected, 2 dependents, 0 moved; critical path 3 → 3 (+0)")
