"""Selection: glob filters, --changed (ids, files, git ref), and closure over the graph."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from harness.config import load_config
from harness.errors import HarnessError
from harness.graph import DependencyGraph
from harness.selection import Selection, select
from harness.stacks import load
from tests.scheduler.repo import LAYERED, write_repo


@pytest.fixture
def repo(tmp_path):
    return write_repo(tmp_path / "repo", {"prod": LAYERED, "dev": LAYERED},
                      environment_types={"prod": "prod", "dev": "dev"})


def ids(repo, **kwargs):
    config = load_config({"stacks_repo": str(repo)}, cwd=repo, environ={})
    stack_set = load(repo, config)
    return [i.id for i in select(stack_set, Selection(**kwargs), graph=DependencyGraph.build(stack_set),
                                 config=config)]


def test_no_flags_select_every_deployable_instance_sorted(repo):
    selected = ids(repo)
    assert len(selected) == 28 and selected == sorted(selected)


def test_globs_combine(repo):
    assert ids(repo, stacks=("prod",), components=("v*", "sub*")) == ["subnet@prod", "vpc@prod"]
    assert ids(repo, environment_types=("dev",), components=("cdn",)) == ["cdn@dev"]


def test_closure_adds_dependencies_or_dependents(repo):
    assert ids(repo, stacks=("prod",), components=("db",), include_dependencies=True) == \
        ["db@prod", "iam@prod", "key@prod", "kms@prod", "net@prod", "sg@prod", "subnet@prod", "vpc@prod"]
    assert ids(repo, stacks=("dev",), components=("app",), include_dependents=True) == \
        ["app@dev", "cdn@dev", "web@dev"]


def test_changed_instance_ids_and_files_select_the_what_if_affected_set(repo):
    assert ids(repo, changed=("web@prod",)) == ["web@prod"]
    assert ids(repo, changed=("components/terraform/vpc/main.tf",)) == ["vpc@dev", "vpc@prod"]
    assert ids(repo, changed=("stacks/deploy/dev.yaml",), components=("n*",)) == ["net@dev"]
    assert ids(repo, changed=("web@prod",), include_dependents=True) == ["cdn@prod", "web@prod"]


def test_changed_names_something_that_exists(repo):
    with pytest.raises(HarnessError, match="did you mean web@prod"):
        ids(repo, changed=("web@prdo",))
    with pytest.raises(HarnessError, match="no such instance or file"):
        ids(repo, changed=("nothing-here.yaml",))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_ref_compares_with_a_git_ref(repo):
    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    manifest = repo / "stacks" / "deploy" / "prod.yaml"
    document = yaml.safe_load(manifest.read_text())
    document["components"]["terraform"]["cache"]["vars"] = {"size": 2}
    manifest.write_text(yaml.safe_dump(document))
    assert ids(repo, changed_ref="HEAD") == ["cache@prod"]


def test_the_pytest_options_select_the_same_way(pytester, repo):
    pytester.makepyfile(test_suite="def test_x(component):\n    pass\n")
    result = pytester.runpytest("--collect-only", "-q", "--stacks-repo", str(repo), "--changed", "app@dev",
                                "--include-dependencies", "--stack", "dev")
    collected = sorted(line.split("[", 1)[1].rstrip("]") for line in result.outlines if "::test_x[" in line)
    assert collected == ids(repo, stacks=("dev",), changed=("app@dev",), include_dependencies=True)
    assert len(collected) == 11
    bad = pytester.runpytest("--collect-only", "-q", "--stacks-repo", str(repo), "--changed", "nope@dev")
    assert bad.ret != 0
    assert "nope@dev is not an instance in the dependency graph — did you mean net@dev" in "\n".join(bad.outlines)
