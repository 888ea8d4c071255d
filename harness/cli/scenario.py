"""`stackharness scenario run FILE...`: provision, drift out of band, run the drift suite, compare exactly."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_FINDINGS, CommandContext, add_command
from harness.demo import run_scenario
from harness.drift.scenarios import load_scenario
from harness.embedded import DUMMY_CREDENTIALS, embedded_moto, reset_moto
from harness.errors import UsageError


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("scenario", help="drift simulation scenarios",
                                   description="Drift simulation scenarios (fixtures/scenarios/*.yaml).")
    commands = parser.add_subparsers(dest="scenario_command", metavar="COMMAND", required=True)
    run = add_command(commands, "run", common, run_scenarios,
                      help="provision each scenario's repo on moto, make its out-of-band changes, run the drift "
                           "suite and compare the findings with the expected ones exactly (exit 0 when all match)",
                      aws=True)
    run.add_argument("files", nargs="+", type=Path, metavar="FILE", help="scenario file(s)")
    run.add_argument("-n", "--workers", type=int, default=0, help="pytest-xdist workers for the suite run")


def run_scenarios(ctx: CommandContext) -> int:
    """Exit 0 when every scenario found exactly its expected drift, 1 otherwise, 2 on errors."""
    files = [f.resolve() for f in ctx.args.files]
    if ctx.config.aws_endpoint_url and len(files) > 1:
        raise UsageError("with --aws-endpoint-url, run one scenario at a time (each needs an empty endpoint)",
                         hint="drop --aws-endpoint-url to use the embedded moto server, reset between scenarios")
    scenarios = [load_scenario(f) for f in files]
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)  # moto accepts anything; never real credentials for scenarios
    matched = 0
    with ExitStack() as stack:
        endpoint = ctx.config.aws_endpoint_url or stack.enter_context(embedded_moto())
        for scenario in scenarios:
            if not ctx.config.aws_endpoint_url:
                reset_moto(endpoint)
            report_dir = ctx.config.report_dir / "scenarios" / scenario.name
            config = ctx.config.with_overrides(aws_endpoint_url=endpoint, report_dir=report_dir)
            outcome, document = run_scenario(config, scenario, workers=ctx.args.workers)
            summary = document["summary"]
            status = "[green]match[/]" if outcome.matched else "[red]MISMATCH[/]"
            # (no "name: value" shape: the redactor would take a scenario named *secret* for a secret)
            ctx.print(f"{status}  {scenario.name} — {len(scenario.mutations)} change(s), expected "
                      f"{len(scenario.expected)} finding(s), found {len(document['findings'])} "
                      f"({summary['checked']} resources checked) — {config.drift_json_path}")
            for label, text in outcome.differences():
                ctx.print(f"    [red]{label}:[/] {text}")
            matched += outcome.matched
    ctx.print(f"{matched}/{len(scenarios)} scenario(s) matched")
    return EXIT_CLEAN if matched == len(scenarios) else EXIT_FINDINGS
