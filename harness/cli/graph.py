"""`stackharness graph`: the dependency graph as JSON, Mermaid, DOT or a self-contained HTML page."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_FINDINGS, CommandContext, add_command, path_arg
from harness.graph import DependencyGraph
from harness.graph_render import COLLAPSE_ABOVE, FORMATS, render
from harness.stacks.model import ResolutionProblem, StackSet

log = logging.getLogger("harness.cli.graph")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "graph", common, run,
                         help="Show the dependency graph of the stacks (exit 1 on cycles or errors).")
    parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default: json)")
    parser.add_argument("--output", "-o", type=path_arg, metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--instance", dest="instances", action="append", default=[], metavar="ID",
                        help="show only this instance component@stack (repeatable) ...")
    parser.add_argument("--include-dependencies", action="store_true",
                        help="... with everything it depends on (what must run for it to run)")
    parser.add_argument("--include-dependents", action="store_true",
                        help="... with everything that depends on it")
    parser.add_argument("--title", default="Dependency graph", help="title of the HTML page")
    parser.add_argument("--collapse-above", type=int, default=COLLAPSE_ABOVE, metavar="N",
                        help=f"HTML: one box per stack above N instances (default {COLLAPSE_ABOVE})")


def load_stacks(ctx: CommandContext) -> StackSet:
    """The stack set of the configured repository (`--stacks-repo`)."""
    from harness.stacks import load

    return load(ctx.config.stacks_repo, ctx.config)


def problem_entries(stackset: StackSet) -> list[dict[str, str]]:
    """Resolution errors in the graph JSON's `errors` form (id: the instance, else the manifest)."""
    return [{"id": p.instance or p.stack_file or p.file or "", "message": str(p)} for p in stackset.errors]


def report_problems(graph: DependencyGraph, resolution: tuple[ResolutionProblem, ...]) -> None:
    """Cycles, dependency errors and resolution errors on stderr, one line each."""
    for problem in resolution:
        print(f"stackharness: error: {problem}", file=sys.stderr)
    for cycle in graph.cycles:
        print(f"stackharness: cycle: {' -> '.join((*cycle, cycle[0]))}", file=sys.stderr)
    if graph.cycle_count > len(graph.cycles):
        more = f"{graph.cycle_count - len(graph.cycles)}{'+' if graph.cycle_count_capped else ''}"
        print(f"stackharness: ... and {more} more cycles", file=sys.stderr)
    for instance, messages in graph.errors.items():
        for message in messages:
            print(f"stackharness: dependency error in {instance}: {message}", file=sys.stderr)
    for warning in graph.warnings:
        log.warning("%s", warning.message)


def run(ctx: CommandContext) -> int:
    args = ctx.args
    stackset = load_stacks(ctx)
    graph = DependencyGraph.build(stackset)
    if args.instances:
        graph = graph.subgraph(graph.closure(args.instances, args.include_dependencies,
                                             args.include_dependents))
    if args.format == "json":
        payload = graph.to_dict()
        payload["errors"].extend(problem_entries(stackset))
        text = json.dumps(payload, indent=2) + "\n"
    else:
        text = render(graph, args.format, title=args.title, collapse_above=args.collapse_above)
    if args.output:
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(ctx.redactor.redact(text), encoding="utf-8")
        print(f"stackharness: wrote {output} ({len(graph)} instances, {len(graph.batches())} batches)",
              file=sys.stderr)
    else:
        ctx.write(text)
    report_problems(graph, stackset.errors)
    failed = graph.has_cycles or graph.errors or stackset.errors
    return EXIT_FINDINGS if failed else EXIT_CLEAN
