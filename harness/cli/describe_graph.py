"""`stackharness describe dependents|affected`: Atmos-compatible answers from the dependency graph.

`add_describe_commands(subparsers, common)` adds both to the `describe` group's subparsers.
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from typing import Any

import yaml

from harness.cli.common import EXIT_CLEAN, CommandContext, add_command, path_arg
from harness.cli.graph import load_base, load_stacks
from harness.graph_describe import AtmosDescriber


def add_describe_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Register `dependents` and `affected` under the `describe` command."""
    dependents = add_command(subparsers, "dependents", common, run_dependents,
                             help="Instances that depend on a component in a stack "
                                  "(atmos describe dependents).")
    dependents.add_argument("component", help="the Atmos component")
    dependents.add_argument("-s", "--stack", required=True, help="the stack")
    _output_options(dependents)

    affected = add_command(subparsers, "affected", common, run_affected,
                           help="Instances changed against a base version (atmos describe affected).")
    base = affected.add_mutually_exclusive_group(required=True)
    base.add_argument("--base-dir", type=path_arg, metavar="DIR", help="compare against this folder")
    base.add_argument("--ref", metavar="REF", help="compare against this git ref")
    _output_options(affected)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", "-f", choices=("json", "yaml"), default="json", help="output format")
    parser.add_argument("--include-dependents", action="store_true",
                        help="nest each item's dependents (recursively, cycle-guarded)")
    parser.add_argument("--include-settings", action="store_true", help="add each item's settings section")


def _emit(ctx: CommandContext, data: Any) -> None:
    if ctx.args.format == "yaml":
        ctx.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    else:
        ctx.write(json.dumps(data, indent=2))


def run_dependents(ctx: CommandContext) -> int:
    args = ctx.args
    describer = AtmosDescriber(load_stacks(ctx))
    _emit(ctx, describer.dependents(args.component, args.stack, include_settings=args.include_settings,
                                    include_dependents=args.include_dependents))
    return EXIT_CLEAN


def run_affected(ctx: CommandContext) -> int:
    args = ctx.args
    current = load_stacks(ctx)
    with ExitStack() as stack:
        base = load_base(ctx, stack, args.base_dir, args.ref)
        assert base is not None   # argparse requires --base-dir or --ref
        answer = AtmosDescriber(current).affected(base, include_dependents=args.include_dependents,
                                                  include_settings=args.include_settings)
    _emit(ctx, answer)
    return EXIT_CLEAN
