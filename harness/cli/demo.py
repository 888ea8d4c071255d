"""`stackharness demo`: the main job end to end on the embedded AWS default (moto)."""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack
from pathlib import Path

from rich.table import Table

from harness.aws.session import SessionPool
from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, CommandContext, add_command
from harness.demo import DEFAULT_SCENARIO, apply_scenario, check_outcome, provision, run_drift_suite
from harness.drift.findings import labelled_sides
from harness.drift.scenarios import load_scenario
from harness.embedded import DUMMY_CREDENTIALS, embedded_moto
from harness.errors import UsageError
from harness.stacks import load


def register(subparsers, common) -> None:
    parser = add_command(subparsers, "demo", common, handle,
                         help="provision the demo stacks on moto, inject drift, run the drift suite, report",
                         config_keys=("drift_json", "drift_report", "history_dir"), aws=True)
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO,
                        help="drift scenario file; its `repo:` is the stacks repo provisioned "
                             "(default: fixtures/scenarios/demo.yaml)")
    parser.add_argument("--provision-only", action="store_true",
                        help="only provision backend, resources, states and drift into --aws-endpoint-url")
    parser.add_argument("--keep-server", action="store_true",
                        help="leave the embedded moto server up until Ctrl-C and print how to use it")
    parser.add_argument("-n", "--workers", type=int, default=0, help="pytest-xdist workers for the suite run")
    for flag, dest in (("--drift-json", "drift_json"), ("--drift-report", "drift_report"),
                       ("--history-dir", "history_dir")):
        parser.add_argument(flag, dest=dest, metavar="PATH", default=None)


def handle(ctx: CommandContext) -> int:
    args = ctx.args
    if args.provision_only and not ctx.config.aws_endpoint_url:
        raise UsageError("--provision-only needs --aws-endpoint-url URL (a moto server you run)",
                         hint="start one with `moto_server -H 127.0.0.1 -p 5000`, or drop --provision-only")
    if args.stacks_repo is not None:
        raise UsageError("demo does not take --stacks-repo: it provisions the repo its scenario names",
                         hint="use --scenario FILE whose `repo:` names the repository")
    scenario = load_scenario(args.scenario.resolve())
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)  # moto accepts anything; never real credentials for the demo
    with ExitStack() as stack:
        endpoint = ctx.config.aws_endpoint_url or stack.enter_context(embedded_moto())
        config = ctx.config.with_overrides(aws_endpoint_url=endpoint, stacks_repo=scenario.repo)
        ctx.print(f"[bold]stackharness demo[/]: AWS endpoint {endpoint} "
                  f"({'embedded moto' if not ctx.config.aws_endpoint_url else 'given'})")
        pool = SessionPool(config, redactor=ctx.redactor)
        stack_set = load(scenario.repo, config)
        provisioned = provision(pool, stack_set)
        apply_scenario(pool, stack_set, provisioned, scenario)
        ctx.print(f"provisioned {len(provisioned.states)} instances of {scenario.repo.name}; "
                  f"scenario [bold]{scenario.name}[/]: {len(scenario.mutations)} out-of-band change(s)")
        if args.provision_only:
            ctx.print(f"run the drift suite with:\n  pytest suites --stacks-repo {scenario.repo} "
                      f"--aws-endpoint-url {endpoint}")
            return EXIT_CLEAN
        code = run_drift_suite(config, workers=args.workers)
        if code not in (0, 1):
            ctx.print(f"[red]the drift suite did not run cleanly (pytest exit {code})[/]")
            return EXIT_ERROR
        outcome, document = check_outcome(config, scenario)
        _print_summary(ctx, document)
        ctx.print(f"drift report: {config.drift_report_path}\ndrift results: {config.drift_json_path}")
        if outcome.matched:
            ctx.print(f"[green]found exactly the scenario's {len(scenario.expected)} drift(s)[/]")
        for label, text in outcome.differences():
            ctx.print(f"[red]{label}:[/] {text}")
        if args.keep_server and not ctx.config.aws_endpoint_url:
            ctx.print(f"moto keeps running at {endpoint}; try:\n  pytest suites --stacks-repo {scenario.repo} "
                      f"--aws-endpoint-url {endpoint}\nCtrl-C to stop.")
            _wait_for_interrupt()
        return EXIT_CLEAN if outcome.matched else EXIT_FINDINGS


def _print_summary(ctx: CommandContext, document: dict) -> None:
    table = Table(title="Drift found", show_lines=False)
    for column in ("instance", "address", "kind", "path", "expected", "actual"):
        table.add_column(column, overflow="fold")
    for f in document["findings"]:
        table.add_row(f["instance"] or f"({f['stack']})", f["address"], f["kind"], f["path"],
                      *labelled_sides(bool(f.get("set_diff")), _short(f["expected"]), _short(f["actual"])))
    ctx.console.print(table)


def _short(value: object, width: int = 40) -> str:
    text = "—" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
