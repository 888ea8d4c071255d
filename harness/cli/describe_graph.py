"""`stackharness describe dependents|affected`: Atmos-compatible answers from the dependency graph.

`register_dependents` and `register_affected` are listed in `harness.cli.describe.SUBCOMMANDS`.
Resolution errors about what is shown are printed and make the exit code 2 (the output is still
written); a dependency on a missing instance is not such an error, as in Atmos.
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from typing import Any

import yaml

from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, CommandContext, add_command, path_arg
from harness.cli.graph import load_base, resolution_errors
from harness.cli.stacks_output import add_stacks_source_option, errors_in_scope, load_stacks, report_problems
from harness.graph_describe import AtmosDescriber
from harness.stacks.model import ResolutionProblem


def register_dependents(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "dependents", common, run_dependents,
                         help="instances that depend on a component in a stack, as `atmos describe "
                              "dependents` prints them", config_keys=("stacks_source",))
    parser.add_argument("component_name", metavar="COMPONENT")
    parser.add_argument("--stack", "-s", metavar="STACK", required=True, help="the stack name")
    _output_options(parser)


def register_affected(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "affected", common, run_affected,
                         help="instances changed against a base version, as `atmos describe affected` "
                              "prints them", config_keys=("stacks_source",))
    base = parser.add_mutually_exclusive_group(required=True)
    base.add_argument("--base-dir", type=path_arg, metavar="DIR", help="compare against this folder")
    base.add_argument("--ref", metavar="REF", help="compare against this git ref")
    _output_options(parser)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", "-f", dest="output_format", choices=("json", "yaml"), default="json",
                        help="output format (default: json, as Atmos)")
    parser.add_argument("--include-dependents", action="store_true",
                        help="nest each item's dependents (recursively, cycle-guarded)")
    parser.add_argument("--include-settings", action="store_true", help="add each item's settings section")
    add_stacks_source_option(parser)


def _emit(ctx: CommandContext, data: Any, problems: list[ResolutionProblem]) -> int:
    if ctx.args.output_format == "yaml":
        ctx.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    else:
        ctx.write(json.dumps(data, indent=2))
    return EXIT_ERROR if report_problems(ctx, problems) else EXIT_CLEAN


def _ids(entries: list[dict[str, Any]]) -> set[str]:
    """Every instance id in an answer, nested dependents included."""
    out: set[str] = set()
    for entry in entries:
        out.add(f"{entry['component']}@{entry['stack']}")
        out |= _ids(entry.get("dependents") or [])
    return out


def run_dependents(ctx: CommandContext) -> int:
    args = ctx.args
    stackset = load_stacks(ctx)
    describer = AtmosDescriber(stackset)
    answer = describer.dependents(args.component_name, args.stack, include_settings=args.include_settings,
                                  include_dependents=args.include_dependents)
    shown = _ids(answer) | {f"{args.component_name}@{args.stack}"}
    problems = errors_in_scope(resolution_errors(stackset), lambda iid: iid in shown)
    return _emit(ctx, answer, problems)


def run_affected(ctx: CommandContext) -> int:
    args = ctx.args
    current = load_stacks(ctx)
    with ExitStack() as stack:
        base = load_base(ctx, stack, args.base_dir, args.ref)
        assert base is not None   # argparse requires --base-dir or --ref
        describer = AtmosDescriber(current)
        answer = describer.affected(base, include_dependents=args.include_dependents,
                                    include_settings=args.include_settings)
    # Any error may hide a change: everything counts, in both versions.
    problems = [*resolution_errors(current), *resolution_errors(base)]
    return _emit(ctx, answer, problems)
