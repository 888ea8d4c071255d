"""Allure: labels and attachments from an `-n 2` run, run-level files, cleaning, offline rendering."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.report.allure import (
    CATEGORIES,
    allurerc,
    clean_results,
    cli_command,
    executor_info,
    strip_analytics,
)

pytestmark = pytest.mark.slow
# `make allure-cli` (part of `make test`) installs it here from the npm registry.
CLI_BINARY = Path(__file__).resolve().parents[2] / ".venv" / "allure-cli" / "node_modules" / ".bin" / "allure"


def results_of(run) -> list[dict]:
    folder = run.report_dir / "allure-results"
    return [json.loads(p.read_text()) for p in folder.glob("*-result.json")]


def labels(result: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for label in result["labels"]:
        out.setdefault(label["name"], []).append(label["value"])
    return out


def test_every_item_has_the_labels_and_drifted_items_the_attachments(demo_run):
    assert demo_run.returncode == 1, demo_run.stdout
    results = [r for r in results_of(demo_run) if r["name"].startswith("test_drift[")]
    assert len(results) == 6                                    # the stale result was cleaned away
    others = {r["name"].split("[")[0] for r in results_of(demo_run)} - {"test_drift"}
    assert others <= {"test_unmanaged", "test_suppressions"}   # the suite's other items
    by_instance = {re.search(r"\[(.+)\]", r["name"]).group(1): r for r in results}
    app = labels(by_instance["app-bucket@platform-ue1-dev"])
    assert app["parentSuite"] == ["dev"] and app["suite"] == ["platform-ue1-dev"]
    assert app["subSuite"] == ["app-bucket"] and app["feature"] == ["test_drift"]
    assert app["severity"] == ["normal"] and app["tag"] == ["aws_s3_bucket"]
    assert labels(by_instance["web-sg@platform-ue1-prod"])["tag"] == ["aws_security_group"]
    assert demo_run.document["run"]["workers"] == 2              # written by xdist workers
    drifted = {i for i, r in by_instance.items() if r["status"] == "failed"}
    assert drifted == {f["instance"] for f in demo_run.document["findings"]}
    folder = demo_run.report_dir / "allure-results"
    for instance, result in by_instance.items():
        attachments = {a["name"]: folder / a["source"] for a in result.get("attachments", [])}
        if instance not in drifted:
            assert attachments == {}
            continue
        assert set(attachments) == {"findings.json", "drift.html"}
        body = json.loads(attachments["findings.json"].read_text())
        assert body["instance"] == instance and body["findings"][0]["instance"] == instance
        html = attachments["drift.html"].read_text()
        assert body["findings"][0]["path"] in html and "<script" not in html


def test_controller_writes_the_run_files_and_cleans_only_allure_files(demo_run):
    folder = demo_run.report_dir / "allure-results"
    assert not (folder / "00000000-0000-0000-0000-000000000000-result.json").exists()
    assert (folder / "notes.txt").read_text() == "not an allure file"
    properties = (folder / "environment.properties").read_text()
    assert "stacks_repo=" in properties and "workers=2" in properties
    assert json.loads((folder / "executor.json").read_text())["name"]
    categories = json.loads((folder / "categories.json").read_text())
    assert [c["name"] for c in categories] == ["Expired suppression", "Infrastructure drift",
                                               "Evaluation error / throttling"]
    drift_message = "harness.drift.assertions.DriftFound: app-bucket@platform-ue1-dev: 1 drift finding(s)\naddress"
    assert re.fullmatch(categories[1]["messageRegex"], drift_message)
    assert not re.fullmatch(categories[0]["messageRegex"], drift_message)


def test_junit_xml_carries_instance_and_finding_counts(demo_run):
    tree = ET.parse(demo_run.report_dir / "junit.xml")
    cases = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in tree.iter("testcase")
             if c.get("name").startswith("test_drift[")}
    assert len(cases) == 6
    app = cases["test_drift[app-bucket@platform-ue1-dev]"]
    assert app["instance"] == "app-bucket@platform-ue1-dev"
    assert app["drift_changed"] == "1" and app["drift_missing"] == "0" and app["drift_errors"] == "0"
    assert cases["test_drift[logs-bucket@platform-ue1-dev]"]["drift_changed"] == "0"


def test_clean_alluredir_under_xdist_is_done_once_by_the_controller(pytester):
    """`--clean-alluredir` never reaches allure-pytest (whose workers would each wipe the folder, and a
    replacement worker the others' results): the controller cleaned before the workers started."""
    results = pytester.path / "res"
    results.mkdir()
    (results / "11111111-1111-1111-1111-111111111111-result.json").write_text("{}")
    pytester.makepyfile(test_probe="""
        def test_probe(request):
            assert request.config.option.clean_alluredir is False
    """)
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--alluredir", str(results),
                                            "--clean-alluredir")
    outcome.assert_outcomes(passed=1)
    assert not (results / "11111111-1111-1111-1111-111111111111-result.json").exists()
    assert len(list(results.glob("*-result.json"))) == 1


def test_analytics_scripts_are_stripped_and_the_app_kept():
    page = ('<head><script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>'
            "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}"
            "gtag('config', 'G-X');</script><script>window.allure = {};</script>"
            '<script src="data:text/javascript;base64,AAAA"></script><script src="app.js"></script></head>')
    stripped = strip_analytics(page)
    assert "googletagmanager" not in stripped and "gtag" not in stripped
    assert "window.allure = {}" in stripped and "data:text/javascript" in stripped and 'src="app.js"' in stripped


def test_allurerc_carries_the_categories_and_executor_knows_ci():
    text = allurerc([Path("/r")], Path("/o"), name="drift")
    assert all(c.name in text for c in CATEGORIES) and "singleFile: true" in text
    github = executor_info({"GITHUB_RUN_ID": "7", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_NUMBER": "3"})
    assert github["buildUrl"] == "https://github.com/acme/infra/actions/runs/7" and github["buildOrder"] == 3
    assert executor_info({})["type"] == "local"


def test_missing_cli_explains_how_to_install(tmp_path, capsys):
    with pytest.raises(HarnessError, match="npx") as caught:
        cli_command(environ={"PATH": str(tmp_path)})
    assert "npm install" in str(caught.value)
    assert main(["report", "allure", "--results", str(tmp_path), "--allure-cli", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_relative_allure_cli_path_is_run_from_the_current_folder(tmp_path, monkeypatch, capsys):
    cli = tmp_path / "tools" / "allure"
    cli.parent.mkdir()
    # A stand-in Allure CLI: writes the index.html `generate` would, into --output.
    cli.write_text(f"#!{sys.executable}\nimport pathlib, sys\n"
                   "out = pathlib.Path(sys.argv[sys.argv.index('--output') + 1])\n"
                   "(out / 'index.html').write_text('<html>allure</html>')\n")
    cli.chmod(0o755)
    (tmp_path / "results").mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli_command("tools/allure") == [str(cli)]
    assert main(["report", "allure", "--results", "results", "--output", "out", "--allure-cli", "tools/allure"]) == 0
    assert (tmp_path / "out" / "index.html").read_text() == "<html>allure</html>"
    assert f"with {cli} " in capsys.readouterr().out
    with pytest.raises(HarnessError, match="does not exist"):
        cli_command("tools/nope")


def test_clean_results_leaves_other_files(tmp_path):
    (tmp_path / "22222222-2222-2222-2222-222222222222-attachment.html").write_text("x")
    (tmp_path / "executor.json").write_text("{}")
    (tmp_path / "keep.json").write_text("{}")
    assert clean_results(tmp_path) == 2 and [p.name for p in tmp_path.iterdir()] == ["keep.json"]


@pytest.fixture(scope="session")
def allure_cli() -> str:
    """An Allure 3 CLI: one on PATH, else the one `make allure-cli` installed (the test needs no network)."""
    found = shutil.which("allure")
    if found and subprocess.run([found, "--version"], capture_output=True, text=True).stdout.startswith("3"):
        return found
    if not CLI_BINARY.exists():
        pytest.skip(f"no Allure 3 CLI on PATH or at {CLI_BINARY}: run `make allure-cli` (needs npm)")
    return str(CLI_BINARY)


def test_report_allure_renders_one_offline_file(demo_run, allure_cli, tmp_path, capsys):
    output = tmp_path / "allure-report"
    code = main(["report", "allure", "--results", str(demo_run.report_dir / "allure-results"),
                 "--output", str(output), "--allure-cli", allure_cli])
    assert code == 0, capsys.readouterr()
    html = (output / "index.html").read_text()
    assert "googletagmanager" not in html and "gtag(" not in html
    assert not re.search(r"<script[^>]+src=[\"']?https?:", html)
    data = {m.group(1): m.group(2) for m in re.finditer(r'd\("([^"]+)","([A-Za-z0-9+/=]*)"\)', html)}
    categories = base64.b64decode(data["widgets/categories.json"]).decode()
    assert "Infrastructure drift" in categories
