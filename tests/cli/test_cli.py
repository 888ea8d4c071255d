"""The CLI frame: help, version, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness import __version__
from harness.cli import main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and "demo" in out and "Exit codes" in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--no-such-flag"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("command", [["graph"], ["run"], ["list", "stacks"], ["describe", "stacks"],
                                     ["what-if"], ["report", "trend"], ["report", "html"]])
@pytest.mark.parametrize("flag", [["--api-budget", "3"], ["--inject-aws-faults", "throttle=0.5"]])
def test_aws_access_flags_are_usage_errors_where_nothing_honours_them(command, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, *flag])
    assert exit_info.value.code == 2
    assert f"unrecognized arguments: {flag[0]}" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["creds", "check"], ["creds", "rotate"], ["locks", "list"],
                                     ["locks", "clean"], ["state", "verify"], ["demo"],
                                     ["scenario", "run", "fixtures/scenarios/demo.yaml"]])
def test_aws_access_flags_are_offered_where_they_take_effect(command):
    from harness.cli import build_parser

    args = build_parser().parse_args([*command, "--api-budget", "3", "--inject-aws-faults", "seed=1"])
    assert (args.api_budget, args.inject_aws_faults) == ("3", "seed=1")


def test_config_error_is_one_line_without_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "stackharness.yaml").write_text("unknown_key: 1\n")
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--stacks-repo", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "stackharness.yaml:1" in err and "unknown_key" in err
    assert "Traceback" not in err


def test_provision_only_requires_an_endpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--provision-only"]) == 2
    assert "--aws-endpoint-url" in capsys.readouterr().err


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "harness.cli", "--version"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and result.stdout.startswith("stackharness ")


def test_output_piped_into_head_ends_quietly(tmp_path):
    from harness.report.history import append_run
    from tests.report.synthetic import synthetic_document

    for day in (1, 2):         # enough findings that the JSON outgrows the pipe's buffer
        append_run(tmp_path, synthetic_document(3000, stacks=20, seed=day, started=f"2026-11-0{day}T01:00:00Z",
                                                finished=f"2026-11-0{day}T01:20:00Z"), retention=0)
    command = [sys.executable, "-m", "harness.cli", "report", "trend", "--format", "json", "--history-dir",
               str(tmp_path)]
    writer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.run(["head", "-1"], stdin=writer.stdout, capture_output=True, text=True, check=True)
    writer.stdout.close()
    err = writer.stderr.read().decode()
    assert writer.wait(timeout=60) == 141, err
    assert head.stdout == "{\n" and err == ""


def test_demo_refuses_stacks_repo_naming_the_scenario_option(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--stacks-repo", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--stacks-repo" in err and "--scenario FILE" in err and "repo:" in err
