"""What the state commands share: the repository's instances and the AWS client pool."""

from __future__ import annotations

import argparse
import logging

from harness.aws.context import AwsContext
from harness.aws.session import SessionPool
from harness.cli.common import CommandContext
from harness.config import parse_duration
from harness.errors import ConfigError
from harness.stacks import StackSet, load

log = logging.getLogger("harness.cli")


def load_stacks(ctx: CommandContext) -> StackSet:
    """The resolved repository; each resolution problem is logged (the rest still resolves)."""
    stacks = load(ctx.config.stacks_repo, ctx.config)
    for problem in stacks.problems:
        (log.error if problem.severity == "error" else log.warning)("%s", problem)
    return stacks


def client_pool(ctx: CommandContext) -> SessionPool:
    """The command's AWS client pool: read-only (writes need an explicit, logged permission)."""
    return AwsContext.from_config(ctx.config, redactor=ctx.redactor).pool


def duration_arg(text: str) -> float:
    """argparse type for `90s`, `30m`, `2h`, `1d`."""
    try:
        return parse_duration(text, what="--older-than")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
