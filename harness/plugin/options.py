"""Command-line options of the plugin; names match the CLI flags and the config keys."""

from __future__ import annotations

from typing import Any

import pytest

# option dest -> (flags, help); every dest is a HarnessConfig key.
CONFIG_OPTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "stacks_repo": (("--stacks-repo", "--repo"), "the Atmos repository (folder holding atmos.yaml)"),
    "aws_endpoint_url": (("--aws-endpoint-url",), "send every AWS call to this endpoint (e.g. moto)"),
    "report_dir": (("--report-dir",), "where reports are written (default: reports/)"),
    "profile": (("--profile",), "apply this environment profile to every instance"),
    "drift_json": (("--drift-json",), "drift results path (default: <report_dir>/drift.json)"),
    "drift_report": (("--drift-report",), "HTML report path (default: <report_dir>/drift-report.html)"),
    "history_dir": (("--history-dir",), "run history for trends (default: <report_dir>/history)"),
    "notify_webhook": (("--notify-webhook",), "POST a JSON summary of the run to this URL at the end (optional)"),
    "notify_sns_topic": (("--notify-sns-topic",), "publish the same summary to this SNS topic ARN (optional)"),
    "suppressions_file": (("--suppressions-file",), "drift suppressions (default: <repo>/drift-suppressions.yaml)"),
    "plan_json_dir": (("--plan-json-dir",), "drift from refresh-only plan JSON files DIR/<instance>.json "
                                            "instead of live reads"),
    "api_budget": (("--api-budget",), "stop issuing AWS calls after N; the rest is reported as not checked"),
    "inject_aws_faults": (("--inject-aws-faults",),
                          "testing aid: throttle=0.3,error=0.0,latency_ms=20,seed=1"),
}

SELECTION_OPTIONS: dict[str, tuple[str, str]] = {
    "stack": ("--stack", "only instances whose stack matches GLOB (repeatable)"),
    "component": ("--component", "only instances whose component matches GLOB (repeatable)"),
    "environment_type": ("--environment-type", "only instances of this environment type (repeatable)"),
}


def add_options(parser: pytest.Parser) -> None:
    """Register the stackharness option group."""
    group = parser.getgroup("stackharness", "stackharness (Atmos + Terraform drift harness)")
    for dest, (flags, help_text) in CONFIG_OPTIONS.items():
        group.addoption(*flags, dest=f"stackharness_{dest}", default=None, help=help_text)
    for dest, (flag, help_text) in SELECTION_OPTIONS.items():
        group.addoption(flag, dest=f"stackharness_{dest}", action="append", default=[], metavar="GLOB",
                        help=help_text)


def config_values(config: pytest.Config) -> dict[str, Any]:
    """The config keys given on the pytest command line (None when not given)."""
    return {dest: config.getoption(f"stackharness_{dest}") for dest in CONFIG_OPTIONS}


def selection(config: pytest.Config) -> dict[str, list[str]]:
    """The selection filters given on the command line."""
    return {dest: list(config.getoption(f"stackharness_{dest}")) for dest in SELECTION_OPTIONS}
