"""`stackharness locks list|clean`: find Terraform locks across the repository, remove abandoned ones."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, CommandContext, add_command
from harness.cli.stacks_access import client_pool, duration_arg, load_stacks
from harness.cli.tables import format_age, print_table
from harness.errors import UsageError
from harness.state.cleanup import AUDIT_LOG_NAME, FAILED, AuditLog, clean_locks, plan_cleanup
from harness.state.locks import MALFORMED, LockRow, LockScan, discover_locks

log = logging.getLogger("harness.cli")

COLUMNS = ("instance", "lock_kind", "state_key", "lock_id", "operation", "who", "age", "verdict")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("locks", help="list Terraform state locks, remove abandoned ones",
                                   description="Terraform state locks (DynamoDB items and S3 .tflock "
                                               "objects) across every backend of the repository.")
    commands = parser.add_subparsers(dest="locks_command", metavar="COMMAND", required=True)
    listing = add_command(commands, "list", common, run_list, aws=True,
                          help="list every lock with its verdict: held, stale, orphaned or malformed")
    _older_than(listing)
    listing.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    clean = add_command(commands, "clean", common, run_clean, aws=True,
                        help="remove stale locks (a dry run unless --yes); every removal is audited")
    _older_than(clean)
    clean.add_argument("--instance", action="append", default=[], metavar="ID",
                       help="only locks of this instance (component@stack; repeatable)")
    clean.add_argument("--include-orphaned", action="store_true",
                       help="also remove orphaned locks (no instance owns the state) past the threshold")
    clean.add_argument("--yes", action="store_true",
                       help="really remove them (conditional deletes; without it nothing is changed)")


def _older_than(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", type=duration_arg, default=None, metavar="D",
                        help="staleness threshold for every lock (90s, 30m, 2h, 1d); default: the "
                             "environment profile's lock_stale_after")


def _scan(ctx: CommandContext) -> tuple[LockScan, Any, Any]:
    stacks = load_stacks(ctx)
    pool = client_pool(ctx)
    scan = discover_locks(stacks.instances, pool, config=ctx.config, older_than=ctx.args.older_than)
    for row in scan.rows:
        if row.verdict == MALFORMED:
            log.warning("malformed lock %s: %s (inspect it by hand; never removed automatically)",
                        row.location, row.problem)
    return scan, stacks, pool


def _table(ctx: CommandContext, rows: tuple[LockRow, ...] | list[LockRow],
           extra: dict[int, str] | None = None) -> None:
    columns = COLUMNS + (("result",) if extra is not None else ())
    print_table(ctx, columns, [
        (r.instance, r.lock_kind, r.state_key, r.lock_id, r.operation, r.who, format_age(r.age_s), r.verdict,
         *((extra[i],) if extra is not None else ()))
        for i, r in enumerate(rows)], status_column="result" if extra is not None else "verdict")


def run_list(ctx: CommandContext) -> int:
    """Print every lock; exit 0, or 2 when some backend could not be read (its locks are unknown)."""
    scan, _, _ = _scan(ctx)
    if ctx.args.format == "json":
        ctx.write(json.dumps([row.to_dict() for row in scan.rows], indent=2))
    elif scan.rows:
        _table(ctx, scan.rows)
    else:
        ctx.print("no locks found" + (" in the backends that could be read" if scan.problems else ""))
    if ctx.args.format != "json":
        for problem in scan.problems:
            ctx.print(f"[red]not read:[/] {problem} (its locks are unknown)")
    return EXIT_ERROR if scan.problems else EXIT_CLEAN


def run_clean(ctx: CommandContext) -> int:
    """Plan (and with --yes, perform) the removal of stale locks; exit 2 on any error."""
    scan, stacks, pool = _scan(ctx)
    unknown = [i for i in ctx.args.instance if i not in stacks]
    if unknown:
        close = difflib.get_close_matches(unknown[0], [i.id for i in stacks.instances], n=1)
        hint = f"did you mean {close[0]!r}?" if close else "list them with `stackharness locks list`"
        raise UsageError(f"unknown instance {unknown[0]!r}", where=str(stacks.repo), hint=hint)
    include_orphaned = ctx.args.include_orphaned
    if include_orphaned and stacks.errors:
        log.warning("%d resolution error(s): some instances are unknown, so orphaned locks are not removed",
                    len(stacks.errors))
        include_orphaned = False
    plan = plan_cleanup(scan.rows, instances=ctx.args.instance, include_orphaned=include_orphaned)
    _report_left_alone(ctx, scan.rows, plan)
    if not plan:
        ctx.print("nothing to remove")
        return EXIT_ERROR if scan.problems else EXIT_CLEAN
    if not ctx.args.yes:
        ctx.print(f"would remove {len(plan)} lock(s) (dry run; add --yes to remove them):")
        _table(ctx, plan)
        return EXIT_ERROR if scan.problems else EXIT_CLEAN
    audit = AuditLog(ctx.config.report_dir / AUDIT_LOG_NAME, ctx.redactor)
    outcomes = clean_locks(plan, pool, audit)
    _table(ctx, [o.row for o in outcomes], {i: o.result for i, o in enumerate(outcomes)})
    for outcome in outcomes:
        if outcome.detail:
            ctx.print(f"{outcome.row.location}: {outcome.result}: {outcome.detail}")
    removed = sum(o.result == "removed" for o in outcomes)
    ctx.print(f"removed {removed} of {len(outcomes)} lock(s); audit log: {audit.path}")
    failed = any(o.result == FAILED for o in outcomes)
    return EXIT_ERROR if failed or scan.problems else EXIT_CLEAN


def _report_left_alone(ctx: CommandContext, rows: tuple[LockRow, ...], plan: tuple[LockRow, ...]) -> None:
    planned = {r.location for r in plan}
    malformed = [r for r in rows if r.verdict == MALFORMED and r.location not in planned]
    if malformed:
        ctx.print(f"left alone: {len(malformed)} malformed lock(s), never removed automatically:")
        for row in malformed:
            ctx.print(f"  {row.location}: {row.problem}")
    orphans = [r for r in rows if r.verdict == "orphaned" and r.location not in planned]
    if orphans:
        ctx.print(f"left alone: {len(orphans)} orphaned lock(s) (remove with --include-orphaned once past "
                  "the threshold)")
