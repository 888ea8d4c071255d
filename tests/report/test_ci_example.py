"""The example nightly workflow: valid YAML, the documented shape, and commands our CLI and plugin accept."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import yaml

from harness.cli import build_parser
from harness.demo import SOURCE_ROOT

WORKFLOW = SOURCE_ROOT / "examples" / "ci" / "nightly-drift.yml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def commands(prefix: str) -> list[str]:
    """Every `prefix ...` command in the workflow's run steps (continuation lines joined)."""
    found = []
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            found += [line.strip() for line in script.splitlines() if line.strip().startswith(prefix)]
    return found


def test_schedule_dispatch_matrix_and_jobs():
    data = workflow()
    triggers = data[True] if True in data else data["on"]    # YAML 1.1 reads `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    drift, report = data["jobs"]["drift"], data["jobs"]["report"]
    assert drift["strategy"]["matrix"]["shard"] == list(range(1, int(data["env"]["SHARDS"]) + 1))
    assert drift["strategy"]["fail-fast"] is False
    assert report["needs"] == "drift" and report["if"] == "always()"
    uses = [s.get("uses", "") for s in report["steps"]]
    assert any(u.startswith("actions/download-artifact") for u in uses)
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    assert report["steps"][-1]["run"].startswith("stackharness report gate")


def test_the_shard_command_uses_options_the_plugin_knows():
    (pytest_line,) = commands("pytest suites")
    assert "--shard ${{ matrix.shard }}/$SHARDS" in pytest_line and "-n auto" in pytest_line
    help_text = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                               capture_output=True, text=True, cwd=SOURCE_ROOT, check=True).stdout
    aliases = {"--junitxml": "--junit-xml"}             # pytest's help lists one spelling
    for flag in re.findall(r"(?<=\s)(--[a-z][a-z-]+)", pytest_line):
        assert aliases.get(flag, flag) in help_text, flag


def test_the_stackharness_commands_parse():
    lines = commands("stackharness") + [re.sub(r"^#\s*-\s*run:\s*", "", line.strip()) for line in
                                        WORKFLOW.read_text().splitlines() if "stackharness creds" in line]
    assert len(lines) >= 5
    parser = build_parser()
    for line in lines:
        argv = shlex.split(line.replace('"$STACKS_REPO"', "."))[1:]
        if argv[:2] == ["creds", "rotate"]:
            continue                     # issue 10's command; the step is commented out (optional)
        args = parser.parse_args(argv)
        assert args.handler is not None, line
