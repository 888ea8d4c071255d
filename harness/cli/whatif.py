"""`stackharness what-if`: what a change does to the dependency graph and the work (exit 1 on a new cycle)."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.cli.common import EXIT_CLEAN, EXIT_FINDINGS, CommandContext, add_command, path_arg
from harness.cli.graph import load_base
from harness.cli.stacks_output import add_stacks_source_option, load_stacks
from harness.errors import UsageError
from harness.graph import DependencyGraph
from harness.whatif import ChangeSet, WhatIf, parse_dependency_change, what_if

TEXT_ROWS = 40   # the table stays short enough to paste into a pull request


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "what-if", common, run,
                         help="What a change does to the dependency graph and the work "
                              "(exit 1 when it creates a cycle).", config_keys=("stacks_source",))
    parser.add_argument("--changed", action="append", default=[], metavar="ID",
                        help="an instance component@stack that changes (repeatable)")
    parser.add_argument("--changed-file", action="append", default=[], metavar="PATH",
                        help="a stack manifest or Terraform file that changes (repeatable; relative to the "
                             "stacks repo)")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base-dir", type=path_arg, metavar="DIR",
                      help="compare against this copy of the stacks repository")
    base.add_argument("--ref", metavar="REF", help="compare against this git ref of the stacks repository")
    parser.add_argument("--add-dep", action="append", default=[], metavar="X@S=>Y@S",
                        help="suppose Y@S depends on X@S (repeatable)")
    parser.add_argument("--remove-dep", action="append", default=[], metavar="X@S=>Y@S",
                        help="suppose Y@S no longer depends on X@S (repeatable)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--output", "-o", type=path_arg, metavar="FILE", help="write here instead of stdout")
    add_stacks_source_option(parser)


def run(ctx: CommandContext) -> int:
    args = ctx.args
    changes = ChangeSet(
        instances=tuple(args.changed), files=tuple(args.changed_file),
        add_dependencies=tuple(parse_dependency_change(t) for t in args.add_dep),
        remove_dependencies=tuple(parse_dependency_change(t) for t in args.remove_dep),
    )
    if not (changes.instances or changes.files or changes.add_dependencies or changes.remove_dependencies
            or args.base_dir or args.ref):
        raise UsageError("what-if needs a change", hint="give --changed, --changed-file, --base-dir, --ref, "
                         "--add-dep or --remove-dep")
    current = load_stacks(ctx)
    with ExitStack() as stack:
        base = load_base(ctx, stack, args.base_dir, args.ref)
        result = what_if(current, changes, base=base, graph=DependencyGraph.build(current))
    for given in result.unmatched_files:
        print(f"stackharness: warning: {given} affects no instance (no resolved section takes anything "
              "from it and no Terraform folder holds it)", file=sys.stderr)
    # Off a terminal, a wide plain console: the table is as wide as its content, never cut.
    console = ctx.console if ctx.console.is_terminal and not args.output else \
        Console(no_color=True, width=1000, highlight=False)
    text = json.dumps(result.to_dict(), indent=2) + "\n" if args.format == "json" else \
        render_text(result, console)
    if args.output:
        Path(args.output).write_text(ctx.redactor.redact(text), encoding="utf-8")
    else:
        ctx.write(text)
    return EXIT_FINDINGS if result.creates_cycle else EXIT_CLEAN


def render_text(result: WhatIf, console: Console, rows: int = TEXT_ROWS) -> str:
    """A short, colour-coded Markdown-style table (plain when the console is not a terminal)."""
    batch_before, batch_after = result.before.batch_numbers, result.after.batch_numbers
    moved = {m.id for m in result.moved}
    table = Table(box=box.MARKDOWN, show_edge=True, pad_edge=True)
    for column in ("instance", "impact", "why", "batch"):
        table.add_column(column, overflow="fold")

    def batch(instance: str) -> str:
        old, new = batch_before.get(instance), batch_after.get(instance)
        show = lambda b: "-" if b is None else str(b)  # noqa: E731
        return f"{show(old)} → {show(new)}" if instance in moved else show(new if new is not None else old)

    listed = 0
    for instance, reasons in result.affected.items():
        if listed < rows:
            table.add_row(escape(instance), "[bold yellow]changed[/]", escape("; ".join(map(str, reasons))),
                          batch(instance))
        listed += 1
    affected = set(result.affected)
    for instance in result.dependents:
        if listed < rows:
            via = sorted(affected.intersection(result.after.dependencies(instance, transitive=True)))
            why = "via " + ", ".join(via[:3]) + (f" +{len(via) - 3}" if len(via) > 3 else "")
            style = "magenta" if instance in moved else "cyan"
            table.add_row(escape(instance), f"[{style}]dependent[/]", escape(why), batch(instance))
        listed += 1
    for move in result.moved:
        if move.id not in affected and move.id not in result.dependents:
            if listed < rows:
                table.add_row(escape(move.id), "[magenta]moved[/]", "", batch(move.id))
            listed += 1
    if listed > rows:
        table.add_row(f"… {listed - rows} more", "", "", "")

    delta = result.critical_path_length_after - result.critical_path_length_before
    dependents = _count(len(result.dependents), "dependent")
    summary = (f"**What if**: {len(result.affected)} affected, {dependents}, "
               f"{len(result.moved)} moved; critical path {_number(result.critical_path_length_before)} → "
               f"{_number(result.critical_path_length_after)} ({'+' if delta >= 0 else ''}{_number(delta)})")
    lines = [summary]
    lines += [f"[bold red]new cycle[/]: {escape(' -> '.join((*c, c[0])))}" for c in result.new_cycles]
    lines += [f"[green]removed cycle[/]: {escape(' -> '.join((*c, c[0])))}" for c in result.removed_cycles]
    with console.capture() as captured:
        for line in lines:
            console.print(line, highlight=False, soft_wrap=True)
        console.print()
        if listed:
            console.print(table)
        else:
            console.print("No instance is affected.")
    # The Markdown box pads with blank rows and trailing spaces; a pasted table reads better without.
    lines = [line.rstrip() for line in captured.get().splitlines()]
    kept = [line for n, line in enumerate(lines) if line or (n and lines[n - 1])]
    return "\n".join(kept).strip("\n") + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
