"""`stackharness run --exec`: order, concurrency and caps, isolation, fail-fast, dry run, Ctrl-C, the JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from tests.scheduler.repo import LAYERED, write_repo
from tests.tf import wait_for

# Each instance appends "S id" and "E id" around a short sleep: the file's line order is the true order.
RECORD = 'echo "S $STACKHARNESS_INSTANCE" >> {events}; sleep 0.05; echo "E $STACKHARNESS_INSTANCE" >> {events}'
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def repo(tmp_path):
    return write_repo(tmp_path / "repo", {"prod": LAYERED, "dev": LAYERED},
                      environment_types={"prod": "prod", "dev": "dev"},
                      harness_config={"profiles": {"prod": {"max_concurrency": 1}}})


def run_cli(capsys, repo: Path, report_dir: Path, *args: str) -> tuple[int, str, dict | None]:
    code = main(["run", "--stacks-repo", str(repo), "--report-dir", str(report_dir), *args])
    out = capsys.readouterr().out
    documents = sorted(report_dir.glob("run-*.json"))
    return code, out, json.loads(documents[-1].read_text()) if documents else None


def events(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines()]


def graph_of(repo):
    from harness.config import load_config
    from harness.graph import DependencyGraph
    from harness.stacks import load

    return DependencyGraph.build(load(repo, load_config({"stacks_repo": str(repo)}, cwd=repo, environ={})))


def test_runs_in_dependency_order_within_concurrency_and_caps_and_writes_the_run_json(capsys, repo, tmp_path):
    log = tmp_path / "events"
    code, out, document = run_cli(capsys, repo, tmp_path / "reports", "--concurrency", "3",
                                  "--exec", RECORD.format(events=log))
    assert code == 0, out
    graph, seen, running, finished = graph_of(repo), events(log), set(), set()
    for kind, instance in seen:
        if kind == "S":
            assert set(graph.dependencies(instance)) <= finished, f"{instance} started before its dependencies"
            running.add(instance)
            assert len(running) <= 3 and sum(1 for i in running if i.endswith("@prod")) <= 1
        else:
            running.discard(instance)
            finished.add(instance)
    assert len(finished) == 28
    assert set(document) == {"instances", "makespan_s", "critical_path_s"}
    assert len(document["instances"]) == 28
    for entry in document["instances"]:
        assert set(entry) == {"id", "status", "reason", "started", "finished", "log"}
        assert entry["status"] == "ok" and entry["reason"] is None
        assert ISO.match(entry["started"]) and ISO.match(entry["finished"]) and entry["started"] <= entry["finished"]
        assert Path(entry["log"]).is_absolute() and Path(entry["log"]).is_file()
    assert document["makespan_s"] >= document["critical_path_s"] > 0.3   # 7 instances of >= 50 ms in a chain
    assert "28 ok, 0 failed, 0 skipped" in out


def test_the_command_sees_the_instance_in_its_environment_and_its_working_directory(capsys, tmp_path):
    repo = write_repo(tmp_path / "repo", {"dev": {"app": []}}, component_vars=lambda s, c: {"size": 3})
    script = 'env | grep ^STACKHARNESS_ | sort > seen.env; pwd > seen.pwd'
    code, _, _ = run_cli(capsys, repo, tmp_path / "reports", "--exec", script)
    assert code == 0
    workdir = tmp_path / "reports" / "work" / "app@dev"
    seen = dict(line.split("=", 1) for line in (workdir / "seen.env").read_text().splitlines())
    assert seen["STACKHARNESS_INSTANCE"] == "app@dev" and seen["STACKHARNESS_COMPONENT"] == "app"
    assert seen["STACKHARNESS_STACK"] == "dev" and Path(seen["STACKHARNESS_WORKDIR"]) == workdir.resolve()
    assert json.loads(Path(seen["STACKHARNESS_VARS_FILE"]).read_text()) == {"size": 3, "stage": "dev"}
    assert (workdir / "seen.pwd").read_text().strip() == str(workdir.resolve())
    assert (workdir / "main.tf").is_file()


def test_a_failure_skips_exactly_its_dependents_with_the_root_cause(capsys, repo, tmp_path):
    script = 'echo "checking $STACKHARNESS_INSTANCE"; test "$STACKHARNESS_INSTANCE" != "vpc@dev" || ' \
             '{ echo "vpc is broken" >&2; exit 3; }'
    code, out, document = run_cli(capsys, repo, tmp_path / "reports", "--exec", script)
    assert code == 1
    status = {e["id"]: e for e in document["instances"]}
    assert status["vpc@dev"]["status"] == "failed"
    assert status["vpc@dev"]["reason"] == "command exited 3: vpc is broken"
    assert "vpc is broken" in Path(status["vpc@dev"]["log"]).read_text()
    dependents = {f"{c}@dev" for c in ("subnet", "sg", "db", "cache", "app", "web", "cdn")}
    assert {i for i, e in status.items() if e["status"] == "skipped"} == dependents
    assert status["subnet@dev"]["reason"] == "dependency vpc@dev failed: command exited 3: vpc is broken"
    assert status["cdn@dev"]["reason"] == "dependency web@dev skipped (root cause: vpc@dev failed)"
    assert status["cdn@dev"]["started"] is None and status["cdn@dev"]["log"] is None
    assert all(e["status"] == "ok" for i, e in status.items() if i not in dependents | {"vpc@dev"})
    assert "20 ok, 1 failed, 7 skipped" in out


def test_fail_fast_stops_dispatching_and_reports_the_rest(capsys, repo, tmp_path):
    code, _, document = run_cli(capsys, repo, tmp_path / "reports", "--fail-fast", "--concurrency", "1",
                                "--exec", 'test "$STACKHARNESS_INSTANCE" != "iam@dev"')
    assert code == 1
    status = {e["id"]: e for e in document["instances"]}
    assert status["iam@dev"]["status"] == "failed"
    assert status["kms@dev"]["reason"] == "dependency iam@dev failed: command exited 1"
    assert status["net@dev"]["reason"] == "not run: --fail-fast: stopped after iam@dev failed"
    assert sum(e["status"] == "ok" for e in document["instances"]) < 3


def test_dry_run_shows_the_order_and_runs_nothing(capsys, repo, tmp_path):
    code, out, document = run_cli(capsys, repo, tmp_path / "reports", "--dry-run", "--stack", "dev",
                                  "--component", "app", "--include-dependencies", "--", "terraform", "plan")
    assert code == 0 and document is None
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s+\d+\s", line)]
    order = [row[2] for row in rows]
    assert order[-1] == "app@dev" and len(order) == 11
    assert "init → workspace → terraform plan" in out


def test_a_dependency_cycle_blocks_only_its_instances(capsys, tmp_path):
    repo = write_repo(tmp_path / "repo", {"s": {"a": ["b"], "b": ["a"], "c": []}})
    code, _, document = run_cli(capsys, repo, tmp_path / "reports", "--exec", "true")
    status = {e["id"]: e for e in document["instances"]}
    assert code == 1 and status["c@s"]["status"] == "ok"
    assert status["a@s"]["reason"] == "not run: blocked by a dependency cycle: a@s -> b@s -> a@s"


def test_write_commands_need_yes_and_an_empty_selection_is_an_error(capsys, repo, tmp_path):
    assert main(["run", "--stacks-repo", str(repo), "--", "terraform", "apply"]) == 2
    assert "runs only with --yes" in capsys.readouterr().err
    assert main(["run", "--stacks-repo", str(repo), "--stack", "nope", "--exec", "true"]) == 2
    assert "no deployable instance matches the selection" in capsys.readouterr().err


def test_ctrl_c_interrupts_the_running_process_groups_waits_and_reports(tmp_path):
    repo = write_repo(tmp_path / "repo", {"dev": {"a": [], "b": [], "c": ["a"]}})
    reports = tmp_path / "reports"
    script = ('trap \'echo interrupted > "$STACKHARNESS_WORKDIR/got-int"; exit 3\' INT; '
              'touch "$STACKHARNESS_WORKDIR/started"; sleep 60 & wait')
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKHARNESS_")}
    process = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--stacks-repo", str(repo),
                                "--report-dir", str(reports), "--exec", script],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for name in ("a@dev", "b@dev"):
            wait_for(lambda n=name: (reports / "work" / n / "started").exists(), timeout=60, what=f"{name} to start")
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out
    for name in ("a@dev", "b@dev"):   # each process group got SIGINT and was waited for
        assert (reports / "work" / name / "got-int").read_text().strip() == "interrupted"
    document = json.loads(next(reports.glob("run-*.json")).read_text())
    status = {e["id"]: e for e in document["instances"]}
    assert status["a@dev"]["status"] == "failed" and status["a@dev"]["reason"] == "interrupted (command exited 3)"
    assert status["c@dev"]["status"] == "skipped"
    assert status["c@dev"]["reason"] == "dependency a@dev failed: interrupted (command exited 3)"
    assert "interrupted" in out


def test_the_live_display_shows_running_instances_their_step_and_the_failures():
    import io

    from rich.console import Console

    from harness.cli.run import LiveProgress
    from harness.runner import InstanceRun, RunEvent

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    with LiveProgress(console, total=2) as progress:
        progress(RunEvent("start", "vpc@dev", step="prepare"))
        progress(RunEvent("step", "vpc@dev", step="apply"))
        with console.capture() as captured:
            console.print(progress)
        assert "vpc@dev apply" in captured.get() and "0/2" in captured.get()
        failed = InstanceRun("vpc@dev", "failed", "terraform apply exited 1", "t", "t")
        progress(RunEvent("end", "vpc@dev", result=failed))
        progress(RunEvent("end", "app@dev", result=InstanceRun("app@dev", "skipped", "dependency vpc@dev failed")))
        with console.capture() as captured:
            console.print(progress)
        assert "vpc@dev" not in captured.get() and "2/2" in captured.get() and "1 failed" in captured.get()
    assert "failed vpc@dev: terraform apply exited 1" in out.getvalue()
