"""`stackharness report`: trend, merge (shards), html, allure and gate over drift.json and its history."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, CommandContext, add_command
from harness.cli.tables import print_table
from harness.errors import UsageError
from harness.report import allure
from harness.report.drift_json import read_document, write_json
from harness.report.history import append_run, trend_of
from harness.report.html import write_drift_report
from harness.report.merge import merge_documents

TREND_RUNS = 30


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("report", help="drift reports: trend, merge shards, HTML, Allure, gate",
                                   description="Work with drift results (drift.json), their history and Allure.")
    commands = parser.add_subparsers(dest="report_command", metavar="COMMAND", required=True)

    trend = add_command(commands, "trend", common, run_trend, config_keys=("history_dir",),
                        help="per-run drift totals and each finding's new/recurring/resolved status from history")
    trend.add_argument("--history-dir", dest="history_dir", metavar="DIR",
                       help="run history (default: <report_dir>/history)")
    trend.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    trend.add_argument("--last", type=int, default=None, metavar="N", help="only the last N runs' totals")

    merge = add_command(commands, "merge", common, run_merge,
                        config_keys=("history_dir", "notify_webhook", "notify_sns_topic"),
                        help="merge the shards' drift.json (and Allure results) into one result and report")
    merge.add_argument("inputs", nargs="+", type=Path, metavar="DIR",
                       help="a shard's report folder (holding drift.json, maybe allure-results/) or a drift.json")
    merge.add_argument("--output", "-o", type=Path, required=True, metavar="DIR",
                       help="folder for the merged drift.json, drift-report.html and allure-results/")
    merge.add_argument("--history-dir", dest="history_dir", metavar="DIR",
                       help="append the merged run to this history (default: <output>/history)")
    merge.add_argument("--no-history", action="store_true", help="do not append the merged run to a history")
    merge.add_argument("--notify-webhook", dest="notify_webhook", metavar="URL",
                       help="POST a JSON summary of the merged run to this URL (optional)")
    merge.add_argument("--notify-sns-topic", dest="notify_sns_topic", metavar="ARN",
                       help="publish the same summary to this SNS topic (optional)")

    html = add_command(commands, "html", common, run_html, config_keys=("drift_json", "drift_report", "history_dir"),
                       help="render the HTML drift report again from drift.json (and the history)")
    for flag, dest in (("--drift-json", "drift_json"), ("--drift-report", "drift_report"),
                       ("--history-dir", "history_dir")):
        html.add_argument(flag, dest=dest, metavar="PATH", default=None)

    render = add_command(commands, "allure", common, run_allure,
                         help="render Allure results into an offline HTML report with the Allure 3 CLI (npx)")
    render.add_argument("--results", type=Path, action="append", metavar="DIR",
                        help="Allure results folder (repeatable; default: <report_dir>/allure-results)")
    render.add_argument("--output", type=Path, metavar="DIR",
                        help="report folder (default: <report_dir>/allure-report)")
    render.add_argument("--allure-cli", metavar="PATH",
                        help="the Allure 3 executable (default: `allure` on PATH if it is 3.x, "
                             "else `npx --yes allure@3`)")

    gate = add_command(commands, "gate", common, run_gate, config_keys=("drift_json",),
                       help="exit 0 when drift.json is clean, 1 on unsuppressed drift or expired suppressions, "
                            "2 on errors")
    gate.add_argument("drift_json", nargs="?", metavar="DRIFT_JSON", help="default: <report_dir>/drift.json")


# -- trend ---------------------------------------------------------------------------------------
def run_trend(ctx: CommandContext) -> int:
    history = ctx.config.history_path
    trend = trend_of(history, last=ctx.args.last)
    if ctx.args.format == "json":
        ctx.write(json.dumps(trend.to_json(), indent=2))
        return EXIT_CLEAN
    if not trend.runs:
        ctx.print(f"no runs in the history at {history}")
        return EXIT_CLEAN
    print_table(ctx, ("started", "changed", "missing", "unmanaged", "suppressed", "errors"),
                [(r.started, r.changed, r.missing, r.unmanaged, r.suppressed, r.errors) for r in trend.runs])
    ctx.print("")
    print_table(ctx, ("status", "instance", "address", "kind", "path", "first_seen", "last_seen", "runs_seen"),
                [(f.status, f.instance or "(unmanaged)", f.address, f.kind, f.path or "-", f.first_seen, f.last_seen,
                  f.runs_seen) for f in trend.findings], status_column="status")
    counts = trend.counts()
    ctx.print(f"{counts['new']} new, {counts['recurring']} recurring, {counts['resolved']} resolved "
              f"(latest run against the one before, {len(trend.runs)} run(s) shown)")
    return EXIT_CLEAN


# -- merge ---------------------------------------------------------------------------------------
def _drift_json_of(path: Path) -> Path:
    return path if path.is_file() else path / "drift.json"


def run_merge(ctx: CommandContext) -> int:
    args = ctx.args
    sources = [_drift_json_of(p) for p in args.inputs]
    missing = [str(p) for p in sources if not p.is_file()]
    documents = [read_document(p) for p in sources if p.is_file()]
    if not documents:
        raise UsageError(f"no drift.json in {', '.join(map(str, args.inputs))}",
                         hint="pass the report folders of the shards (each holds a drift.json)")
    for path in missing:
        ctx.print(f"[yellow]no drift.json at {path}; if that shard ran, its instances count as errors[/]")
    document = merge_documents(documents)
    output: Path = args.output
    json_path = write_json(output / "drift.json", ctx.redactor.redact_obj(document))
    trend = None
    if not args.no_history:
        history = ctx.config.history_dir or output / "history"
        append_run(history, document, retention=ctx.config.history_retention)
        trend = trend_of(history, last=TREND_RUNS)
    html_path = write_drift_report(output / "drift-report.html", document, redactor=ctx.redactor, trend=trend)
    copied = _merge_allure(ctx, [p.parent / "allure-results" for p in sources if p.is_file()], output, document)
    summary = document["summary"]
    ctx.print(f"merged {len(documents)} result(s): {summary['changed']} changed, {summary['missing']} missing, "
              f"{summary['unmanaged']} unmanaged, {summary['suppressed']} suppressed, {summary['errors']} errors "
              f"in {summary['instances']} instances")
    ctx.print(f"drift results: {json_path}\ndrift report:  {html_path}")
    if copied:
        ctx.print(f"allure results: {output / 'allure-results'} ({copied} files)")
    for line in _notify(ctx, document, trend, html_path):
        ctx.print(line)
    return EXIT_CLEAN


def _notify(ctx: CommandContext, document: dict[str, Any], trend: Any, html_path: Path) -> list[str]:
    """The merged run's notifications (shards never notify: they are parts of this run)."""
    config = ctx.config
    if not (config.notify_webhook or config.notify_sns_topic):
        return []
    from harness.aws.context import AwsContext
    from harness.report.notify import artifact_link, notify, summary

    pool = AwsContext.from_config(config, redactor=ctx.redactor).pool if config.notify_sns_topic else None
    return notify(summary(document, trend, link=artifact_link(html_path)), webhook=config.notify_webhook,
                  sns_topic=config.notify_sns_topic, pool=pool, redactor=ctx.redactor)


def _merge_allure(ctx: CommandContext, sources: list[Path], output: Path, document: dict[str, Any]) -> int:
    present = [s for s in sources if s.is_dir()]
    if not present:
        return 0
    target = output / "allure-results"
    if target.resolve() not in {s.resolve() for s in present}:
        allure.clean_results(target)
    copied = allure.copy_results(present, target)
    run = document["run"]
    allure.write_run_files(target, {"stacks_repo": run.get("repo"), "shards": ", ".join(run.get("shards") or []),
                                    "workers": run.get("workers"), "started": run.get("started")},
                           redactor=ctx.redactor)
    return copied


# -- html ----------------------------------------------------------------------------------------
def run_html(ctx: CommandContext) -> int:
    config = ctx.config
    document = read_document(config.drift_json_path)
    trend = trend_of(config.history_path, last=TREND_RUNS) if config.history_path.is_dir() else None
    path = write_drift_report(config.drift_report_path, document, redactor=ctx.redactor, trend=trend)
    ctx.print(f"drift report: {path}")
    return EXIT_CLEAN


# -- allure --------------------------------------------------------------------------------------
def run_allure(ctx: CommandContext) -> int:
    args = ctx.args
    results = args.results or [ctx.config.report_dir / "allure-results"]
    output = args.output or ctx.config.report_dir / "allure-report"
    cli = allure.cli_command(args.allure_cli)
    ctx.print(f"rendering {', '.join(map(str, results))} with {' '.join(cli)} …")
    index = allure.render(results, output, cli=cli)
    ctx.print(f"allure report: {index} (one self-contained file; analytics scripts removed)")
    return EXIT_CLEAN


# -- gate ----------------------------------------------------------------------------------------
def gate_status(document: dict[str, Any]) -> tuple[int, str]:
    """The exit code for a drift.json and a one-line reason: errors > drift > clean."""
    summary = document.get("summary", {})
    expired = len((document.get("suppressions") or {}).get("expired") or ())
    drift = sum(int(summary.get(k, 0) or 0) for k in ("changed", "missing", "unmanaged"))
    line = (f"{summary.get('changed', 0)} changed, {summary.get('missing', 0)} missing, "
            f"{summary.get('unmanaged', 0)} unmanaged, {expired} expired suppression(s), "
            f"{summary.get('errors', 0)} error(s)")
    if int(summary.get("errors", 0) or 0):
        return EXIT_ERROR, f"not clean: some resources could not be evaluated — {line}"
    if drift or expired:
        return EXIT_FINDINGS, f"drift: {line}"
    return EXIT_CLEAN, f"clean: {line}"


def run_gate(ctx: CommandContext) -> int:
    code, line = gate_status(read_document(ctx.config.drift_json_path))
    ctx.print(line)
    return code
