"""What the stack commands share: loading the StackSet, reporting problems, output shapes, lookups."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from harness.cli.common import CommandContext
from harness.errors import UsageError
from harness.stacks import ComponentInstance, ResolutionProblem, StackSet, load
from harness.stacks.yaml_loader import AppendList, Unresolved

OUR_KEY = "stackharness"
SHOWN_WARNINGS = 5                  # resolution warnings shown one by one before a summary line

log = logging.getLogger("harness.stacks")


def group_help(parser: argparse.ArgumentParser) -> Callable[[CommandContext], int]:
    """A handler for a command group run without a subcommand: its help on stderr, exit 2."""
    def handler(ctx: CommandContext) -> int:
        parser.print_help(sys.stderr)
        return 2
    return handler


def add_stacks_source_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stacks-source", dest="stacks_source", choices=("native", "atmos"), default=None,
                        help="resolve stacks natively (default) or ask the atmos binary "
                             "(`atmos describe stacks --format json`)")


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="output_format", choices=("yaml", "json"), default="yaml",
                        help="output format (default: yaml, as Atmos)")


def load_stacks(ctx: CommandContext) -> StackSet:
    """The repository's StackSet, for the configured repo and source."""
    return load(ctx.config.stacks_repo, ctx.config)


def report_problems(ctx: CommandContext, problems: Iterable[ResolutionProblem]) -> int:
    """Print errors to stderr and log warnings (see `log_warnings`); returns the number of errors."""
    errors = 0
    warnings: list[str] = []
    seen: set[str] = set()
    for problem in problems:
        text = str(problem)
        if text in seen:
            continue
        seen.add(text)
        if problem.severity == "error":
            errors += 1
            print(ctx.redactor.redact(f"stackharness: error: {text}"), file=sys.stderr)
        else:
            warnings.append(text)
    log_warnings(warnings, verbose=getattr(ctx.args, "verbose", 0), quiet=getattr(ctx.args, "quiet", 0))
    return errors


def log_warnings(warnings: list[str], *, verbose: int = 0, quiet: int = 0) -> None:
    """Log resolution warnings at WARNING through the `harness` logger (so redacted, and JSON with
    `--log-format json`): the first `SHOWN_WARNINGS` then one summary line; all with -v; only the
    summary with -q; nothing with -qq (the logger's level is ERROR then)."""
    shown = len(warnings) if verbose else 0 if quiet else min(len(warnings), SHOWN_WARNINGS)
    for text in warnings[:shown]:
        log.warning("%s", text)
    hidden = len(warnings) - shown
    if hidden and shown:
        log.warning("and %d more stack warning(s); -v shows all", hidden)
    elif hidden:
        log.warning("%d stack warning(s) while resolving stacks; -v shows them", hidden)


def section_with_ours(instance: ComponentInstance) -> dict[str, Any]:
    """The Atmos section of an instance plus our `stackharness:` block."""
    section = dict(instance.section)
    section[OUR_KEY] = {
        "id": instance.id,
        "environment_type": instance.environment_type,
        "state_key": instance.state_key,
        "dependencies": list(instance.dependencies),
    }
    return section


def describe_stacks_shape(instances: Iterable[ComponentInstance]) -> dict[str, Any]:
    """`{stack: {"components": {type: {name: section}}}}`, as `atmos describe stacks`."""
    result: dict[str, Any] = {}
    for instance in instances:
        typed = result.setdefault(instance.stack, {"components": {}})["components"]
        typed.setdefault(instance.component_type, {})[instance.component] = section_with_ours(instance)
    return result


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """YAML like Atmos prints it: block style, sorted keys, our marker types as plain values, and no
    anchors/aliases (resolved sections share subtrees in memory; the output repeats them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(Unresolved, lambda d, v: d.represent_str(str(v)))
_Dumper.add_representer(AppendList, lambda d, v: d.represent_list(list(v)))


def render(data: Any, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(data, indent=2, sort_keys=True, default=str)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=1 << 16)


# -- lookups with suggestions ---------------------------------------------------------------------

def stack_candidates(stack_set: StackSet, wanted: str) -> str:
    """A hint naming the real stack of a manifest key, or the closest stack names."""
    by_file: dict[str, set[str]] = {}
    for instance in stack_set:
        by_file.setdefault(instance.stack_file, set()).add(instance.stack)
    key = wanted[:-5] if wanted.endswith(".yaml") else wanted[:-4] if wanted.endswith(".yml") else wanted
    if key in by_file:
        names = ", ".join(sorted(by_file[key]))
        return f"{wanted!r} is a manifest file; its stack is named {names}"
    close = difflib.get_close_matches(wanted, stack_set.stacks, n=5, cutoff=0.5)
    if close:
        return "closest stacks: " + ", ".join(close)
    more = " ..." if len(stack_set.stacks) > 10 else ""
    return f"known stacks: {', '.join(stack_set.stacks[:10])}{more}"


def require_stack(stack_set: StackSet, wanted: str) -> None:
    """`UsageError` (exit 2) naming the stack and suggesting candidates when it does not exist."""
    if wanted not in stack_set.stacks:
        raise UsageError(f"stack {wanted!r} not found in {stack_set.repo}",
                         hint=stack_candidates(stack_set, wanted))


def find_instance(stack_set: StackSet, component: str, stack: str) -> ComponentInstance:
    """The instance `component@stack`, or `UsageError` with candidates."""
    require_stack(stack_set, stack)
    instance = stack_set.get(f"{component}@{stack}")
    if instance is not None:
        return instance
    names = sorted(i.component for i in stack_set if i.stack == stack)
    close = difflib.get_close_matches(component, names, n=5, cutoff=0.5)
    hint = f"closest components in {stack}: {', '.join(close)}" if close else \
        f"components in {stack}: {', '.join(names[:15])}" + (" ..." if len(names) > 15 else "")
    raise UsageError(f"component {component!r} not found in stack {stack!r}", hint=hint)


def errors_in_scope(problems: Iterable[ResolutionProblem],
                    in_scope: Callable[[str], bool]) -> list[ResolutionProblem]:
    """Errors that may concern what is shown: about a matching instance id (`component@stack`), or not
    tied to an instance at all (a broken manifest may define the very stack asked for)."""
    return [p for p in problems if p.severity == "error" and (p.instance is None or in_scope(p.instance))]


def split_id(instance: str) -> tuple[str, str]:
    component, _, stack = instance.rpartition("@")
    return component, stack
