"""Without xdist: items run in dependency order and isolation happens in the one process."""

from __future__ import annotations

import pytest

from tests.scheduler.repo import LAYERED, write_repo

SUITE = """
import os
import pytest

ORDER = []

@pytest.fixture
def checked(component):
    if component.id in os.environ.get("SCHED_ERROR", "").split(","):
        raise RuntimeError("state unreadable")
    return component

def test_check(checked):
    ORDER.append(checked.id)

def test_zz_order_seen():
    pass
"""


@pytest.fixture
def repo(tmp_path):
    return write_repo(tmp_path / "repo", {"prod": LAYERED})


def test_items_run_in_dependency_order_with_the_critical_path_first(pytester, repo):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--collect-only", "-q", "--stacks-repo", str(repo))
    ids = [line.split("[", 1)[1].rstrip("]") for line in result.outlines if "::test_check[" in line]
    assert ids[:2] == ["iam@prod", "net@prod"]   # the two chains of 7 start at iam and net
    position = {i: n for n, i in enumerate(ids)}
    for component, deps in LAYERED.items():
        assert all(position[f"{d}@prod"] < position[f"{component}@prod"] for d in deps)
    assert result.outlines.index(next(line for line in result.outlines if "test_zz_order_seen" in line)) > \
        result.outlines.index(next(line for line in result.outlines if "test_check[" in line))


def test_an_error_skips_the_dependents_in_process(pytester, repo, monkeypatch):
    monkeypatch.setenv("SCHED_ERROR", "subnet@prod")
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-q", "-rs", "-p", "no:cacheprovider", "--stacks-repo", str(repo))
    result.assert_outcomes(passed=9, errors=1, skipped=5)   # cache, db, app, web and cdn
    text = "\n".join(result.outlines)
    assert "dependency subnet@prod failed: RuntimeError: state unreadable" in text
    assert "dependency app@prod skipped (root cause: subnet@prod failed)" in text


def test_after_x_the_instance_items_that_did_not_run_are_reported_as_skipped(pytester, repo, monkeypatch):
    monkeypatch.setenv("SCHED_ERROR", "vpc@prod")
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-q", "-rs", "-x", "-p", "no:cacheprovider", "--stacks-repo", str(repo))
    outcomes = result.parseoutcomes()
    assert outcomes["errors"] == 1 and outcomes["passed"] + outcomes["skipped"] + 1 == 14
    assert "not run: stopping after 1 failures" in "\n".join(result.outlines)


def test_an_invalid_skip_dependents_on_value_is_a_usage_error_with_the_place(pytester, repo):
    pytester.makepyfile(test_bad="""
import pytest

@pytest.mark.skip_dependents_on("sometimes")
def test_x(component):
    pass
""")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "--stacks-repo", str(repo))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "test_bad.py:3: skip_dependents_on('sometimes') is not valid" in "\n".join(result.errlines)


def test_after_x_the_items_that_did_not_run_are_in_allure_too(pytester, repo, monkeypatch, tmp_path):
    import json

    monkeypatch.setenv("SCHED_ERROR", "vpc@prod")
    pytester.makepyfile(test_suite=SUITE)
    allure = tmp_path / "allure"
    result = pytester.runpytest_subprocess("-q", "-x", "-p", "no:cacheprovider", "--stacks-repo", str(repo),
                                           f"--alluredir={allure}")
    skipped = result.parseoutcomes()["skipped"]
    results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    not_run = [r for r in results if r.get("statusDetails", {}).get("message", "").startswith("Skipped: not run:")]
    assert skipped and len(not_run) == skipped
    assert all(r["status"] == "skipped" and {"name": "suite", "value": "prod"} in r["labels"] for r in not_run)
