"""`stackharness list stacks`: stack names, one per line, sorted."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, CommandContext, add_command
from harness.cli.stacks_output import add_stacks_source_option, group_help, load_stacks, report_problems


def _list_stacks(ctx: CommandContext) -> int:
    stack_set = load_stacks(ctx)
    if stack_set.stacks:
        ctx.write("\n".join(stack_set.stacks))
    errors = report_problems(ctx, stack_set.problems)
    return EXIT_ERROR if errors else EXIT_CLEAN


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """The `list` command group."""
    parser = subparsers.add_parser("list", help="list things in the Atmos repository",
                                   description="List things in the Atmos repository.")
    parser.set_defaults(handler=group_help(parser))
    nested = parser.add_subparsers(dest="list_command", metavar="SUBCOMMAND")
    stacks = add_command(nested, "stacks", common, _list_stacks, help="stack names, one per line, sorted",
                         config_keys=("stacks_source",))
    add_stacks_source_option(stacks)
