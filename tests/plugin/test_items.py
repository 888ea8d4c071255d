"""Items per instance: ids, order, selection, broken manifests as error items, hands off other tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.demo import SOURCE_ROOT

DEMO = SOURCE_ROOT / "fixtures" / "demo"

SUITE = """
def test_instance(component):
    assert "@" in component.id
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(DEMO, target)
    return target


def test_one_item_per_deployable_instance_in_dependency_order(pytester, repo):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--collect-only", "-q", "--stacks-repo", str(repo))
    ids = [line.split("[", 1)[1].rstrip("]") for line in result.outlines if "::test_instance[" in line]
    # Dependencies first (app-bucket depends on logs-bucket), the longest chain first, then by id.
    assert ids == ["logs-bucket@platform-ue1-dev", "logs-bucket@platform-ue1-prod", "app-bucket@platform-ue1-dev",
                   "app-bucket@platform-ue1-prod", "web-sg@platform-ue1-dev", "web-sg@platform-ue1-prod"]


def test_selection_options_narrow_the_items(pytester, repo):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--collect-only", "-q", "--stacks-repo", str(repo), "--stack", "*-prod",
                                "--component", "*-bucket")
    ids = sorted(line.split("[", 1)[1].rstrip("]") for line in result.outlines if "::test_instance[" in line)
    assert ids == ["app-bucket@platform-ue1-prod", "logs-bucket@platform-ue1-prod"]
    result = pytester.runpytest("--collect-only", "-q", "--stacks-repo", str(repo), "--environment-type", "dev")
    assert sum("::test_instance[" in line for line in result.outlines) == 3


def test_a_broken_manifest_is_an_error_item_and_the_rest_still_runs(pytester, repo):
    (repo / "stacks" / "orgs" / "acme" / "platform" / "dev.yaml").write_text("vars: [unclosed\n")
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-q", "--stacks-repo", str(repo), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    assert any("dev.yaml" in line for line in result.outlines)


def test_tests_that_parametrize_component_themselves_are_left_alone(pytester, repo):
    pytester.makepyfile(test_other="""
import pytest

@pytest.mark.parametrize("component", ["a", "b"])
def test_mine(component):
    assert component in "ab"
""")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_runs_without_component_need_no_stacks_repo(pytester):
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_an_instance_with_problems_is_one_error_item_carrying_all_of_them(pytester, repo):
    dev = repo / "stacks" / "orgs" / "acme" / "platform" / "dev.yaml"
    dev.write_text(dev.read_text() + "      settings:\n        depends_on:\n"
                   "          1: {component: ghost-one}\n          2: {component: ghost-two}\n")
    pytester.makepyfile(test_suite=SUITE)
    collected = pytester.runpytest("--collect-only", "-q", "--stacks-repo", str(repo))
    ids = [line.split("[", 1)[1].rstrip("]") for line in collected.outlines if "::test_instance[" in line]
    assert len(ids) == len(set(ids)) == 6 and "web-sg@platform-ue1-dev" in ids
    result = pytester.runpytest("-q", "--stacks-repo", str(repo), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=1)
    error = [line for line in result.outlines if "ghost-one" in line]
    assert error and "ghost-two" in error[0] and "dev.yaml" in error[0]
