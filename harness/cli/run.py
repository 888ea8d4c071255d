"""`stackharness run`: Terraform (or any command) across the selected instances, in dependency order.

    stackharness run [selection] [--concurrency N] [--dry-run] [--fail-fast] [--yes] -- terraform plan
    stackharness run [selection] --exec 'make check'

Exit codes: 0 every instance ok, 1 any failed or skipped, 2 usage or configuration error (after
running what could run), 130 interrupted (Ctrl-C; running processes got SIGINT and were waited for).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, CommandContext, add_command, path_arg
from harness.cli.stacks_output import add_stacks_source_option, load_stacks, report_problems
from harness.errors import UsageError
from harness.graph import ConcurrencyLimits, DependencyGraph
from harness.plan_export import ExportPlanJson, drift_command
from harness.runner import (
    Command,
    PlannedInstance,
    RunEvent,
    Runner,
    RunReport,
    previous_durations,
    reserve_run_stamp,
    run_stamp,
    write_report,
)
from harness.selection import Selection, select

STYLE = {"ok": "green", "failed": "bold red", "skipped": "yellow"}


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "run", common, run, config_keys=("stacks_source", "plan_json_dir"),
                         help="Run Terraform (or --exec CMD) for each selected instance, in dependency order.")
    parser.epilog = ("Everything after -- is the command, e.g. `-- terraform plan`. Write commands (apply, "
                     "destroy, import, state changes) need --yes. Exit codes: 0 all ok, 1 any failed or skipped, "
                     "2 usage or configuration error, 130 interrupted.")
    selection = parser.add_argument_group("selection")
    selection.add_argument("--stack", action="append", default=[], metavar="GLOB",
                           help="only instances whose stack matches GLOB (repeatable)")
    selection.add_argument("--component", action="append", default=[], metavar="GLOB",
                           help="only instances whose component matches GLOB (repeatable)")
    selection.add_argument("--environment-type", action="append", default=[], metavar="TYPE",
                           help="only instances of this environment type (repeatable)")
    selection.add_argument("--changed", action="append", default=[], metavar="ID|FILE",
                           help="only instances affected by this change (instance id or file; repeatable)")
    selection.add_argument("--changed-ref", metavar="REF",
                           help="only instances whose configuration differs from git REF")
    selection.add_argument("--include-dependencies", action="store_true",
                           help="add everything the selected instances depend on")
    selection.add_argument("--include-dependents", action="store_true",
                           help="add everything that depends on the selected instances")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N",
                        help="run at most N instances at once (default 4; profiles' max_concurrency also apply)")
    parser.add_argument("--exec", dest="exec_command", metavar="CMD",
                        help="run this shell command per instance instead of Terraform")
    parser.add_argument("--dry-run", action="store_true", help="show what would run, in which order, and stop")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop starting instances after the first failure")
    parser.add_argument("--yes", action="store_true",
                        help="allow Terraform commands that change infrastructure (answers -auto-approve)")
    parser.add_argument("--drift", action="store_true",
                        help="run `terraform plan -refresh-only` and write each plan as JSON for "
                             "`pytest suites --plan-json-dir DIR`")
    parser.add_argument("--plan-json-dir", dest="plan_json_dir", metavar="DIR",
                        help="where --drift writes <instance>.json (default: <report_dir>/plans)")
    parser.add_argument("--work-dir", type=path_arg, metavar="DIR",
                        help="where the per-instance working directories live (default: <report_dir>/work)")
    add_stacks_source_option(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- terraform SUBCOMMAND [ARGS]")


def run(ctx: CommandContext) -> int:
    args = ctx.args
    command = Command.parse(args.command, args.exec_command, yes=args.yes)
    plans = ctx.config.plan_json_dir or ctx.config.report_dir / "plans"
    post_steps = []
    if args.drift:
        command = drift_command(command)
        post_steps.append(ExportPlanJson(plans, command.binary))
    stack_set = load_stacks(ctx)
    resolution_errors = report_problems(ctx, stack_set.problems)
    graph = DependencyGraph.build(stack_set)
    selection = Selection(stacks=tuple(args.stack), components=tuple(args.component),
                          environment_types=tuple(args.environment_type), changed=tuple(args.changed),
                          changed_ref=args.changed_ref, include_dependencies=args.include_dependencies,
                          include_dependents=args.include_dependents)
    instances = select(stack_set, selection, graph=graph, config=ctx.config)
    if not instances:
        raise UsageError("no deployable instance matches the selection",
                         hint="list the instances with `stackharness graph --format json`")
    report_dir = ctx.config.report_dir
    stamp = run_stamp() if args.dry_run else reserve_run_stamp(report_dir)
    chosen = {i.id for i in instances}
    runner = Runner(instances, command, work_root=args.work_dir or report_dir / "work",
                    log_dir=report_dir / f"run-{stamp}", graph=graph, concurrency=args.concurrency,
                    limits=ConcurrencyLimits.from_profiles(graph, ctx.config), fail_fast=args.fail_fast,
                    endpoint_url=ctx.config.aws_endpoint_url, weights=previous_durations(report_dir),
                    broken={i: "; ".join(m) for i, m in graph.errors.items() if i in chosen},
                    post_steps=post_steps)
    if args.dry_run:
        ctx.write(render_plan(runner.plan(), command, _plain_console(ctx)))
        return EXIT_CLEAN
    progress = LiveProgress(ctx.console, len(instances)) if ctx.console.is_terminal else PlainProgress(ctx)
    runner.on_event = progress
    with progress:
        report = runner.run()
    path = write_report(report, report_dir / f"run-{stamp}.json")
    console = ctx.console if ctx.console.is_terminal else _plain_console(ctx)
    ctx.write(render_summary(report, console))
    ctx.print(f"run report: {path}\nlogs:       {runner.log_dir.resolve()}")
    if args.drift:
        ctx.print(f"plan JSON:  {plans.resolve()}\ncheck them: pytest suites --stacks-repo {ctx.config.stacks_repo} "
                  f"--plan-json-dir {plans.resolve()}")
    if report.interrupted:
        return report.exit_code
    return EXIT_ERROR if resolution_errors else report.exit_code


def _plain_console(ctx: CommandContext) -> Console:
    return Console(no_color=True, width=1000, highlight=False, file=sys.stdout)


def render_plan(plan: list[PlannedInstance], command: Command, console: Console) -> str:
    """The dry run: one row per instance in the order it would start (blocked ones last)."""
    table = Table(box=box.SIMPLE_HEAD, title=f"Would run `{escape(command.describe())}` for {len(plan)} instances")
    for column in ("#", "batch", "instance", "depends on", "steps"):
        table.add_column(column, overflow="fold")
    for n, entry in enumerate(plan, 1):
        batch = "blocked (cycle)" if entry.blocked else str(entry.batch)
        table.add_row(str(n), batch, escape(entry.id), escape(", ".join(entry.dependencies)) or "-",
                      escape(" → ".join(entry.steps)))
    with console.capture() as captured:
        console.print(table)
    return captured.get()


def render_summary(report: RunReport, console: Console) -> str:
    """The colour-coded table of every instance, then the totals."""
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("instance", "status", "seconds", "reason"):
        table.add_column(column, overflow="fold")
    for entry in report.instances:
        table.add_row(escape(entry.id), f"[{STYLE[entry.status]}]{entry.status}[/]",
                      f"{entry.seconds:.1f}" if entry.started else "-", escape(entry.reason or ""))
    totals = (f"{report.count('ok')} ok, {report.count('failed')} failed, {report.count('skipped')} skipped; "
              f"makespan {report.makespan_s:.1f}s, critical path {report.critical_path_s:.1f}s"
              + (" — interrupted" if report.interrupted else ""))
    with console.capture() as captured:
        console.print(table)
        console.print(totals)
    return captured.get()


class PlainProgress:
    """One line per event, for logs and CI (not a terminal)."""

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx
        self.started = time.monotonic()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, event: RunEvent) -> None:
        stamp = f"[{time.monotonic() - self.started:7.1f}s]"
        if event.kind == "start":
            self.ctx.write(f"{stamp} start    {event.instance}")
        elif event.kind == "end" and event.result is not None:
            result = event.result
            detail = f" ({result.seconds:.1f}s)" if result.started else ""
            reason = f": {result.reason}" if result.reason else ""
            self.ctx.write(f"{stamp} {result.status:<8} {event.instance}{detail}{reason}")


class LiveProgress:
    """A live display: one line per running instance (its step and time) and an overall bar."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.running: dict[str, tuple[str, float]] = {}
        self.lock = threading.Lock()
        self.bar = Progress(TextColumn("[bold]run"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("{task.description}"), console=console)
        self.task = self.bar.add_task("", total=total)
        self.counts = {"ok": 0, "failed": 0, "skipped": 0}
        self.live = Live(self, console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def __call__(self, event: RunEvent) -> None:
        # Never print while holding the lock: rich's refresh thread holds the console's lock while it
        # renders (`__rich__`), which takes this one.
        with self.lock:
            if event.kind in ("start", "step"):
                since = self.running.get(event.instance, ("", time.monotonic()))[1]
                self.running[event.instance] = (event.step or "", since)
            elif event.kind == "end" and event.result is not None:
                self.running.pop(event.instance, None)
                self.counts[event.result.status] += 1
                description = ", ".join(f"[{STYLE[k]}]{v} {k}[/]" for k, v in self.counts.items() if v)
        if event.kind == "end" and event.result is not None:
            self.bar.update(self.task, advance=1, description=description)
            if event.result.status != "ok":
                self.console.print(f"[{STYLE[event.result.status]}]{event.result.status}[/] "
                                   f"{escape(event.instance)}: {escape(event.result.reason or '')}")

    def __rich__(self) -> Group:
        now = time.monotonic()
        with self.lock:
            lines = [f"  [cyan]{escape(i)}[/] {escape(step)} {now - since:5.1f}s"
                     for i, (step, since) in sorted(self.running.items())]
        return Group(*lines, self.bar)
