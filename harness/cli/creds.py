"""`stackharness creds check|rotate`: credential expiry and age by policy, and safe rotation.

`check` answers "what will have expired by that date" (`--as-of`); exit 1 when any credential is
critical, expired, overdue or rotation_disabled, 2 when something (an inventory part, an instance's
state) could not be read. `rotate` prints a plan unless `--yes` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from harness.aws.session import SessionPool
from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, CommandContext, add_command
from harness.cli.stacks_access import client_pool
from harness.credentials.alerts import alert_message
from harness.credentials.audit import AUDIT_FILE
from harness.credentials.aws import pool_clients
from harness.credentials.check import CredentialReport
from harness.credentials.model import KINDS, iso, owner_label, status_summary
from harness.credentials.rotation import PlanItem, plan_rotations, run_rotations, select_targets
from harness.credentials.rotation.engine import FAILED, REFUSED, RotationOutcome
from harness.credentials.service import make_checker, rotation_context, rotation_writes
from harness.errors import UsageError
from harness.report.notify import notify
from harness.stacks import load
from harness.stacks.model import ComponentInstance, StackSet

STATUS_STYLE = {"expired": "bold red", "critical": "red", "overdue": "red", "rotation_disabled": "magenta",
                "expiring": "yellow", "ok": "green"}


def parse_as_of(text: str) -> datetime:
    """`2027-01-05` (midnight UTC) or an ISO 8601 time; the date that replaces today."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (write it as YYYY-MM-DD)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """The `creds` command group."""
    parser = subparsers.add_parser("creds", help="credential expiry, policies and rotation",
                                   description="Credential inventory, expiry alerts and rotation.")
    nested = parser.add_subparsers(dest="creds_command", metavar="SUBCOMMAND")

    check = add_command(nested, "check", common, _check, help="credentials by status under their policy", aws=True,
                        config_keys=("notify_webhook", "notify_sns_topic"))
    check.add_argument("--as-of", type=parse_as_of, metavar="DATE",
                       help="assess as of this date instead of now (YYYY-MM-DD, midnight UTC)")
    check.add_argument("--format", dest="output_format", choices=("table", "json"), default="table")
    check.add_argument("--notify-webhook", dest="notify_webhook", metavar="URL",
                       help="POST the alert (non-ok credentials) as JSON to this URL")
    check.add_argument("--notify-sns-topic", dest="notify_sns_topic", metavar="ARN",
                       help="publish the alert to this SNS topic")
    _selection(check)

    rotate = add_command(nested, "rotate", common, _rotate, help="rotate credentials (a plan unless --yes)", aws=True,
                         config_keys=("rotation_store",))
    rotate.add_argument("--kind", choices=KINDS, help="only credentials of this kind")
    which = rotate.add_mutually_exclusive_group()
    which.add_argument("--id", dest="credential_id", metavar="ID",
                       help="the credential: access key id, ARN, certificate name, secret name")
    which.add_argument("--due", action="store_true", help="everything the policies mark due, and unfinished rotations")
    rotate.add_argument("--yes", action="store_true", help="make the changes (without it: only the plan)")
    rotate.add_argument("--max-steps", type=int, metavar="N", help="stop each rotation after N steps")
    rotate.add_argument("--rotation-store", dest="rotation_store", metavar="S3_URL",
                        help="where rotation records live (default: the managing instance's backend bucket)")
    rotate.add_argument("--format", dest="output_format", choices=("table", "json"), default="table")
    _selection(rotate)


def _selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", action="append", default=[], metavar="GLOB", help="only these stacks (repeatable)")
    parser.add_argument("--component", action="append", default=[], metavar="GLOB",
                        help="only these components (repeatable)")


def _stack_set(ctx: CommandContext) -> tuple[StackSet, tuple[ComponentInstance, ...]]:
    stack_set = load(ctx.config.stacks_repo, ctx.config)
    for problem in stack_set.errors:
        print(ctx.redactor.redact(f"stackharness: error: {problem}"), file=sys.stderr)
    selected = stack_set.select(stacks=ctx.args.stack, components=ctx.args.component)
    if not selected and not stack_set.errors:
        raise UsageError("no deployable instance matches the selection",
                         hint="check --stack/--component; `stackharness list instances` shows them")
    return stack_set, selected


def _write_json(ctx: CommandContext, document: dict[str, Any]) -> None:
    """JSON on stdout, redacted value by value (text redaction would take `"credentials": [` for a secret)."""
    sys.stdout.write(json.dumps(ctx.redactor.redact_obj(document), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _print_errors(ctx: CommandContext, report: CredentialReport) -> None:
    for error in report.errors:
        if error.instance:      # an unreadable state: the message names the instance
            line = error.message
        else:
            what = f"{error.kind} {error.credential}" if error.credential else error.kind
            line = f"{what} in {error.scope} not read: {error.message}"
        print(ctx.redactor.redact(f"stackharness: error: {line}"), file=sys.stderr)


# -- check -------------------------------------------------------------------------------------------
def _check(ctx: CommandContext) -> int:
    stack_set, selected = _stack_set(ctx)
    pool = client_pool(ctx)
    report = make_checker(ctx.config, pool, stack_set, ctx.redactor, as_of=ctx.args.as_of).report(selected)
    if ctx.args.output_format == "json":
        _write_json(ctx, report.to_json())
    else:
        _print_report(ctx, report)
    _print_errors(ctx, report)
    _notify(ctx, pool, report)
    if report.errors or stack_set.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if report.failing else EXIT_CLEAN


def _print_report(ctx: CommandContext, report: CredentialReport) -> None:
    table = Table(title=f"Credentials as of {iso(report.as_of)}")
    for column in ("status", "kind", "name / id", "instance", "expires", "days left", "age", "detail"):
        table.add_column(column, overflow="fold")
    for row in report.rows:
        c, a = row.credential, row.assessment
        cells = (c.kind, c.name if c.name and c.name != c.id else c.id, owner_label(row.to_json()),
                 (iso(c.expires_at) or "—")[:10], _text(a.days_left), _text(a.age_days), a.reason)
        table.add_row(Text(a.status, style=STATUS_STYLE.get(a.status, "")),
                      *(Text(ctx.redactor.redact(cell)) for cell in cells))
    ctx.console.print(table)
    _say(ctx, status_summary(r.status for r in report.rows) or "no credentials found")
    if report.errors:
        _say(ctx, f"incomplete: {len(report.errors)} error(s), listed on stderr", "bold red")


def _say(ctx: CommandContext, text: str, style: str = "", lead: str = "") -> None:
    """A redacted line, printed as plain text (no markup, no emoji: ARNs hold `:secret:`)."""
    line = Text(lead, style=style) if lead else Text()
    line.append(ctx.redactor.redact(text))
    ctx.console.print(line)


def _text(value: int | None) -> str:
    return "—" if value is None else str(value)


def _notify(ctx: CommandContext, pool: SessionPool, report: CredentialReport) -> None:
    config = ctx.config
    if not (config.notify_webhook or config.notify_sns_topic):
        return
    message = alert_message(report)
    if message is None:
        return
    subject, text, payload = message
    lines = notify({"source": "stackharness", "subject": subject, "text": text, **payload},
                   webhook=config.notify_webhook, sns_topic=config.notify_sns_topic, pool=pool, redactor=ctx.redactor)
    for line in lines:
        if line.startswith("notification failed"):
            print(f"stackharness: warning: {ctx.redactor.redact(line)}", file=sys.stderr)


# -- rotate ------------------------------------------------------------------------------------------
def _rotate(ctx: CommandContext) -> int:
    args = ctx.args
    if not args.credential_id and not args.due:
        raise UsageError("say what to rotate: --id ID or --due", hint="stackharness creds check lists the ids")
    if args.max_steps is not None and args.max_steps < 0:
        raise UsageError("--max-steps must be 0 or more")
    stack_set, selected = _stack_set(ctx)
    pool = client_pool(ctx)
    clients = pool_clients(pool)
    report = make_checker(ctx.config, pool, stack_set, ctx.redactor, clients=clients).report(selected)
    rctx = rotation_context(ctx.config, clients, ctx.redactor, permit_writes=rotation_writes(pool))
    targets = select_targets(report, stack_set, ctx.config, rctx, kind=args.kind, credential_id=args.credential_id,
                             due=args.due, instances=selected)
    _print_errors(ctx, report)
    trouble = EXIT_ERROR if report.errors or stack_set.errors else EXIT_CLEAN
    if not args.yes:
        items = plan_rotations(targets, rctx)
        _print_plan(ctx, items)
        refused = any(i.action == REFUSED for i in items)
        return trouble or (EXIT_FINDINGS if refused else EXIT_CLEAN)
    outcomes = run_rotations(targets, rctx, max_steps=args.max_steps)
    _print_outcomes(ctx, outcomes)
    if any(o.result == FAILED for o in outcomes):
        return EXIT_ERROR
    return trouble or (EXIT_FINDINGS if any(o.result == REFUSED for o in outcomes) else EXIT_CLEAN)


def _print_plan(ctx: CommandContext, items: list[PlanItem]) -> None:
    if ctx.args.output_format == "json":
        _write_json(ctx, {"plan": [i.to_json() for i in items]})
        return
    if not items:
        _say(ctx, "nothing to rotate")
        return
    for item in items:
        _say(ctx, f" {_head(item.kind, item.id, item.name)} — {item.instance or 'unmanaged'}: {item.message}",
             "red" if item.action == REFUSED else "bold", item.action)
        for number, step in enumerate(item.steps, 1):
            _say(ctx, f"    {number}. {step}")
    _say(ctx, "nothing was changed; run again with --yes to rotate")


def _head(kind: str, ident: str, name: str | None) -> str:
    """`kind id (name)`, the name only when it says more than the id."""
    return f"{kind} {ident}" + (f" ({name})" if name and name != ident else "")


def _print_outcomes(ctx: CommandContext, outcomes: list[RotationOutcome]) -> None:
    if ctx.args.output_format == "json":
        _write_json(ctx, {"outcomes": [o.to_json() for o in outcomes]})
        return
    if not outcomes:
        _say(ctx, "nothing to rotate")
        return
    style = {"completed": "green", "waiting": "cyan", "refused": "red", "failed": "bold red"}
    for o in outcomes:
        _say(ctx, f" {_head(o.kind, o.id, o.name)}: {o.message}", style.get(o.result, ""), o.result)
    _say(ctx, f"audit: {ctx.config.report_dir / AUDIT_FILE}")
