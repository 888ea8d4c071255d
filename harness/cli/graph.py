"""`stackharness graph`: the dependency graph as JSON, Mermaid, DOT or a self-contained HTML page."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_FINDINGS, CommandContext, add_command, path_arg
from harness.cli.stacks_output import add_stacks_source_option, load_stacks
from harness.errors import UsageError
from harness.graph import DependencyGraph
from harness.graph_render import COLLAPSE_ABOVE, FORMATS, render
from harness.stacks.model import ResolutionProblem, StackSet
from harness.whatif import checkout_ref

log = logging.getLogger("harness.cli.graph")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "graph", common, run,
                         help="Show the dependency graph of the stacks (exit 1 on cycles or errors).",
                         config_keys=("stacks_source",))
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
    add_stacks_source_option(parser)


def load_base(ctx: CommandContext, stack: ExitStack, base_dir: Path | None,
              ref: str | None) -> StackSet | None:
    """The stack set to compare against (`--base-dir DIR` or `--ref REF`), or None without either.

    A ref is extracted into a temporary folder that lives as long as `stack`: comparing component
    folders reads their files.
    """
    from harness.stacks import load

    if base_dir:
        folder = Path(base_dir).resolve()
        if not folder.is_dir():
            raise UsageError(f"--base-dir {base_dir} is not a folder",
                             hint="give the root of the other copy of the stacks repository")
    elif ref:
        folder = stack.enter_context(checkout_ref(ctx.config.stacks_repo, ref))
    else:
        return None
    return load(folder, ctx.config.with_overrides(stacks_repo=folder))


def resolution_errors(stackset: StackSet) -> tuple[ResolutionProblem, ...]:
    """Resolution errors other than missing dependencies (the graph reports those per instance)."""
    def about_a_dependency(problem: ResolutionProblem) -> bool:
        instance = stackset.get(problem.instance) if problem.instance else None
        return instance is not None and any(m in problem.message for m in instance.dependency_errors)

    return tuple(p for p in stackset.errors if not about_a_dependency(p))


def problem_entries(problems: tuple[ResolutionProblem, ...]) -> list[dict[str, str]]:
    """Resolution errors in the graph JSON's `errors` form (id: the instance, else the manifest)."""
    return [{"id": p.instance or p.stack_file or p.file or "", "message": str(p)} for p in problems]


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
    resolution = resolution_errors(stackset)
    if args.format == "json":
        payload = graph.to_dict()
        payload["errors"].extend(problem_entries(resolution))
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
    report_problems(graph, resolution)
    failed = graph.has_cycles or graph.errors or resolution
    return EXIT_FINDINGS if failed else EXIT_CLEAN
