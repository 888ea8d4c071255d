"""`stackharness describe ...`: the resolved configuration, in the shapes `atmos describe` prints.

Subcommands are registered from `SUBCOMMANDS` (each `register(subparsers, common)`); more describe
commands (dependents, affected) are added there.
"""

from __future__ import annotations

import argparse
import fnmatch
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, CommandContext, add_command
from harness.cli.stacks_output import (
    add_format_option,
    add_stacks_source_option,
    describe_stacks_shape,
    errors_in_scope,
    find_instance,
    group_help,
    load_stacks,
    render,
    report_problems,
    section_with_ours,
    split_id,
    stack_candidates,
)
from harness.errors import UsageError


def _describe_stacks(ctx: CommandContext) -> int:
    stack_set = load_stacks(ctx)
    stacks, components = ctx.args.stack, ctx.args.component

    def stack_matches(stack: str, stack_file: str | None = None) -> bool:
        return (not stacks or fnmatch.fnmatchcase(stack, stacks)
                or (stack_file is not None and fnmatch.fnmatchcase(stack_file, stacks)))

    def matches(component: str, stack: str, stack_file: str | None = None) -> bool:
        return stack_matches(stack, stack_file) and (not components
                                                      or fnmatch.fnmatchcase(component, components))

    if stacks and not any(stack_matches(i.stack, i.stack_file) for i in stack_set):
        raise UsageError(f"stack {stacks!r} not found in {stack_set.repo}",
                         hint=stack_candidates(stack_set, stacks))
    shown = [i for i in stack_set if matches(i.component, i.stack, i.stack_file)]
    ctx.write(render(describe_stacks_shape(shown), ctx.args.output_format))
    scoped = errors_in_scope(stack_set.problems, lambda iid: matches(*split_id(iid)))
    report_problems(ctx, [p for p in stack_set.problems if p.severity != "error"] + scoped)
    return EXIT_ERROR if scoped else EXIT_CLEAN


def _describe_component(ctx: CommandContext) -> int:
    stack_set = load_stacks(ctx)
    component, stack = ctx.args.component_name, ctx.args.stack
    wanted = f"{component}@{stack}"
    scoped = errors_in_scope(stack_set.problems, lambda iid: iid == wanted)
    if stack_set.get(wanted) is None and scoped:
        report_problems(ctx, scoped)
        return EXIT_ERROR
    instance = find_instance(stack_set, component, stack)
    section: dict[str, Any] = section_with_ours(instance)
    section["imports"] = list(instance.imports)
    ctx.write(render(section, ctx.args.output_format))
    report_problems(ctx, [p for p in stack_set.problems if p.severity != "error"] + scoped)
    return EXIT_ERROR if scoped else EXIT_CLEAN


def register_stacks(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "stacks", common, _describe_stacks,
                         help="every stack and its components, as `atmos describe stacks` prints them",
                         config_keys=("stacks_source",))
    parser.add_argument("--stack", "-s", metavar="S", help="only this stack (name, manifest key or glob)")
    parser.add_argument("--component", "-c", metavar="C", help="only this component (name or glob)")
    add_format_option(parser)
    add_stacks_source_option(parser)


def register_component(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = add_command(subparsers, "component", common, _describe_component,
                         help="one component in one stack, as `atmos describe component` prints it",
                         config_keys=("stacks_source",))
    parser.add_argument("component_name", metavar="COMPONENT")
    parser.add_argument("--stack", "-s", metavar="STACK", required=True, help="the stack name")
    add_format_option(parser)
    add_stacks_source_option(parser)


# The `describe` subcommands, in --help order; other modules add theirs here (dependents, affected).
SUBCOMMANDS: tuple = (register_stacks, register_component)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """The `describe` command group."""
    parser = subparsers.add_parser("describe", help="show resolved configuration (like atmos describe)",
                                   description="Show resolved configuration, in the shapes Atmos prints.")
    parser.set_defaults(handler=group_help(parser))
    nested = parser.add_subparsers(dest="describe_command", metavar="SUBCOMMAND")
    for add in SUBCOMMANDS:
        add(nested, common)
