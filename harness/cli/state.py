"""`stackharness state verify`: consistency of every instance's Terraform state."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, CommandContext, add_command
from harness.cli.stacks_access import client_pool, load_stacks
from harness.cli.tables import print_table
from harness.inventory.registry import supported_types
from harness.state.verify import failed, incomplete, verify_states


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("state", help="Terraform state checks",
                                   description="Terraform state checks across the repository.")
    commands = parser.add_subparsers(dest="state_command", metavar="COMMAND", required=True)
    verify = add_command(commands, "verify", common, run_verify, aws=True,
                         help="check every state: parse, version, digest, serial, lineage, missing, "
                              "orphans, unchecked types (exit 1 on any fail)")
    verify.add_argument("--format", choices=("table", "json"), default="table", help="output format")


def run_verify(ctx: CommandContext) -> int:
    """Exit 2 when some check was not made (API budget spent) or, without a fail, when the repository
    could not be fully resolved; 1 when any check fails; else 0."""
    stacks = load_stacks(ctx)
    rows = verify_states(stacks.instances, client_pool(ctx), config=ctx.config, known_types=supported_types(),
                         redactor=ctx.redactor)
    if ctx.args.format == "json":
        ctx.write(json.dumps([row.to_dict() for row in rows], indent=2))
    else:
        print_table(ctx, ("instance", "check", "status", "detail"),
                    [(r.instance, r.check, r.status, r.detail) for r in rows], status_column="status")
        counts = Counter(r.status for r in rows)
        ctx.print(f"{counts['ok']} ok, {counts['warn']} warn, {counts['fail']} fail")
        unmade = sum(r.not_checked for r in rows)
        if unmade:
            ctx.print(f"{unmade} check(s) not made: the API budget is spent, the verification is incomplete")
    if incomplete(rows):
        return EXIT_ERROR
    if failed(rows):
        return EXIT_FINDINGS
    return EXIT_ERROR if stacks.errors else EXIT_CLEAN
