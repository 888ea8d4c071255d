"""The dependency scheduler under real pytest-xdist workers (`-n 2`, `-n 4`), on generated repositories.

Each run is a pytest subprocess with a hard timeout, so a scheduling hang fails fast. Items record
when their body started and ended (wall clock, one file for all workers); failures, setup errors
and crashes are injected per instance through environment variables.
"""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.scheduler.repo import LAYERED, write_repo

pytestmark = pytest.mark.slow

TIMEOUT = 120   # seconds; a hang fails the test instead of the whole run

SUITE = """
import json, os, time
import pytest

def _record(component, suite):
    start = time.time()
    time.sleep(float(os.environ.get("SCHED_SLEEP", "0.02")))
    if component.id in os.environ.get("SCHED_FAIL", "").split(","):
        raise AssertionError("drifted " + component.id)
    with open(os.environ["SCHED_LOG"], "a") as log:
        log.write(json.dumps({"suite": suite, "id": component.id, "start": start, "end": time.time(),
                              "pid": os.getpid()}) + "\\n")

def test_first(component):
    _record(component, "first")

@pytest.mark.skip_dependents_on("failure")
def test_second(component):
    _record(component, "second")
"""

CONFTEST = """
import os
import pytest

def _listed(request, variable):
    callspec = getattr(request.node, "callspec", None)
    component = callspec.params.get("component") if callspec else None
    return component is not None and component.id in os.environ.get(variable, "").split(",")

@pytest.fixture(autouse=True)
def _inject(request):
    if _listed(request, "SCHED_CRASH"):
        os._exit(3)
    if _listed(request, "SCHED_ERROR"):
        raise RuntimeError("cannot evaluate")
"""


@pytest.fixture
def scheduled(pytester, tmp_path, monkeypatch):
    """Run the two-suite file over a repo; returns run(*args, repo=..., **env) -> (result, rows)."""
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(CONFTEST)
    log = tmp_path / "items.jsonl"
    monkeypatch.setenv("SCHED_LOG", str(log))
    for name in ("SCHED_FAIL", "SCHED_ERROR", "SCHED_CRASH", "SCHED_SLEEP"):
        monkeypatch.delenv(name, raising=False)
    layered = write_repo(tmp_path / "layered", {"prod": LAYERED, "dev": LAYERED},
                         environment_types={"prod": "prod", "dev": "dev"})

    def run(*args: str, repo: Path = layered, **env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        log.unlink(missing_ok=True)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "--stacks-repo", str(repo), *args,
                                               timeout=TIMEOUT)
        rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return result, rows

    return run


def graph_of(repo: Path):
    from harness.config import load_config
    from harness.graph import DependencyGraph
    from harness.stacks import load

    config = load_config({"stacks_repo": str(repo)}, cwd=repo, environ={})
    return DependencyGraph.build(load(repo, config))


def assert_dependencies_first(rows, graph) -> None:
    by_item = {(r["suite"], r["id"]): r for r in rows}
    for (suite, instance), row in by_item.items():
        for dependency in graph.dependencies(instance):
            if (suite, dependency) in by_item:
                assert by_item[(suite, dependency)]["end"] <= row["start"], \
                    f"{suite}[{instance}] started before {dependency} finished"


@pytest.mark.parametrize("workers", ["2", "4"])
def test_no_item_starts_before_its_dependencies_finished_and_caps_hold(scheduled, tmp_path, workers):
    # With four workers, prod is capped at one running item (profile max_concurrency).
    profiles = {"profiles": {"prod": {"max_concurrency": 1}}} if workers == "4" else None
    repo = write_repo(tmp_path / "repo", {"prod": LAYERED, "dev": LAYERED},
                      environment_types={"prod": "prod", "dev": "dev"}, harness_config=profiles)
    result, rows = scheduled("-n", workers, "-v", repo=repo)
    result.assert_outcomes(passed=56)
    assert any("scheduling tests via DependencyScheduling" in line for line in result.outlines)
    assert len(rows) == 56 and len({r["pid"] for r in rows}) > 1
    assert_dependencies_first(rows, graph_of(repo))
    if profiles:
        prod = sorted((r for r in rows if r["id"].endswith("@prod")), key=lambda r: r["start"])
        assert all(earlier["end"] <= later["start"] for earlier, later in itertools.pairwise(prod))


def test_errors_skip_exactly_the_dependents_with_the_root_cause_on_the_worker(scheduled, tmp_path):
    junit, allure = tmp_path / "junit.xml", tmp_path / "allure"
    result, rows = scheduled("-n", "2", f"--junitxml={junit}", f"--alluredir={allure}",
                             SCHED_ERROR="vpc@prod", SCHED_FAIL="app@dev")
    # vpc@prod errors in both suites: its 7 transitive dependents are skipped in each. app@dev fails in
    # both; only test_second (marked skip_dependents_on("failure")) skips its dependents web and cdn.
    result.assert_outcomes(passed=36, skipped=16, errors=2, failed=2)
    skipped = {case.get("name"): case.find("skipped").get("message")
               for case in ET.parse(junit).getroot().iter("testcase") if case.find("skipped") is not None}
    assert skipped["test_first[subnet@prod]"] == "dependency vpc@prod failed: RuntimeError: cannot evaluate"
    assert skipped["test_first[sg@prod]"] == "dependency vpc@prod failed: RuntimeError: cannot evaluate"
    assert skipped["test_second[cache@prod]"] == "dependency subnet@prod skipped (root cause: vpc@prod failed)"
    assert skipped["test_first[cdn@prod]"] == "dependency web@prod skipped (root cause: vpc@prod failed)"
    assert skipped["test_second[web@dev]"] == "dependency app@dev failed: AssertionError: drifted app@dev"
    assert skipped["test_second[cdn@dev]"] == "dependency web@dev skipped (root cause: app@dev failed)"
    prod = {f"{c}@prod" for c in ("subnet", "sg", "db", "cache", "app", "web", "cdn")}
    assert {name for name in skipped if name.startswith("test_first")} == {f"test_first[{i}]" for i in prod}
    ran = {(r["suite"], r["id"]) for r in rows}
    assert {("first", "web@dev"), ("first", "cdn@dev"), ("second", "net@prod"), ("first", "key@prod")} <= ran
    # The skip happened on a worker: allure (which writes from the workers) recorded it with the reason.
    results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    skipped_in_allure = {r["name"]: r for r in results if r["status"] == "skipped"}
    assert len(skipped_in_allure) == 16
    # db depends on key, sg and subnet: the first isolating one in id order is named.
    assert skipped_in_allure["test_first[db@prod]"]["statusDetails"]["message"] == \
        "Skipped: dependency sg@prod skipped (root cause: vpc@prod failed)"


def test_a_crashed_worker_is_replaced_its_item_is_an_error_and_dependents_are_skipped(scheduled, tmp_path):
    result, rows = scheduled("-n", "2", SCHED_CRASH="subnet@dev")
    text = "\n".join(result.outlines)
    assert "crashed while running" in text and "test_suite.py::test_first[subnet@dev]'" in text
    # Both suites' subnet@dev items crash their worker; cache, db, app, web and cdn are skipped in each.
    result.assert_outcomes(passed=44, failed=2, skipped=10)
    assert "dependency subnet@dev failed: worker 'gw" in text
    assert "dependency cache@dev skipped (root cause: subnet@dev failed)" in text
    assert_dependencies_first(rows, graph_of(tmp_path / "layered"))


def test_maxfail_stops_dispatching_and_reports_every_item_that_did_not_run(scheduled):
    result, rows = scheduled("-n", "2", "--maxfail=1", SCHED_ERROR="net@dev", SCHED_SLEEP="0.05")
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) >= 1 and result.ret != 0
    total = sum(outcomes.get(k, 0) for k in ("passed", "failed", "errors", "skipped"))
    assert total == 56                                          # nothing silently dropped
    assert outcomes.get("skipped", 0) > 0 and len(rows) == outcomes.get("passed", 0)
    assert "not run: stopping after 1 failures" in "\n".join(result.outlines)


def test_items_that_never_ran_under_x_get_allure_results_from_the_controller(scheduled, tmp_path):
    junit, allure = tmp_path / "junit.xml", tmp_path / "allure"
    result, _ = scheduled("-n", "2", "-x", f"--junitxml={junit}", f"--alluredir={allure}",
                          SCHED_ERROR="net@dev", SCHED_SLEEP="0.05")
    not_run = {case.get("name"): case.find("skipped").get("message")
               for case in ET.parse(junit).getroot().iter("testcase")
               if case.find("skipped") is not None and "not run:" in (case.find("skipped").get("message") or "")}
    assert not_run, "\n".join(result.outlines)
    results = {r["name"]: r for r in (json.loads(p.read_text()) for p in allure.glob("*-result.json"))}
    cases = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert cases == set(results)                                   # every JUnit case is in Allure too
    for name, message in not_run.items():
        entry = results[name]
        assert entry["status"] == "skipped" and entry["statusDetails"]["message"] == f"Skipped: {message}"
        labels = {(label["name"], label["value"]) for label in entry["labels"]}
        instance = name.split("[", 1)[1].rstrip("]")
        component, stack = instance.split("@")
        assert {("parentSuite", stack), ("suite", stack), ("subSuite", component),
                ("feature", name.split("[", 1)[0]), ("severity", "normal")} <= labels
    # the same fullName as the results the workers wrote for the items of the same test that ran
    for function in ("test_first", "test_second"):
        assert len({r["fullName"] for n, r in results.items() if n.startswith(f"{function}[")}) == 1


def test_one_ready_item_at_a_time_with_more_workers_than_ready_items_does_not_hang(scheduled, tmp_path):
    """The empty-queue hang: a chain (only one item ever ready) and a star (one root, everything else
    waiting for it), with four workers. A scheduler that sends only ready items leaves the one queued
    item waiting for its next index forever; the hard timeout turns that into a failure."""
    chain = {f"c{n:02d}": ([f"c{n - 1:02d}"] if n else []) for n in range(10)}
    star = {"hub": [], **{f"spoke{n}": ["hub"] for n in range(8)}}
    repo = write_repo(tmp_path / "chain", {"a": chain, "b": star})
    result, rows = scheduled("-n", "4", repo=repo, SCHED_SLEEP="0.01")
    result.assert_outcomes(passed=38)
    assert_dependencies_first(rows, graph_of(repo))
    chain_rows = sorted((r for r in rows if r["suite"] == "first" and r["id"].endswith("@a")), key=lambda r: r["start"])
    assert [r["id"] for r in chain_rows] == [f"c{n:02d}@a" for n in range(10)]


def test_dist_load_opts_out(scheduled):
    result, _ = scheduled("-n", "2", "--dist", "load", "-v", "--stack", "dev")
    result.assert_outcomes(passed=28)
    assert any("scheduling tests via LoadScheduling" in line for line in result.outlines)
