"""Write the run's reports from what the controller collected: drift.json, history, HTML, notifications."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from harness.credentials.model import status_summary
from harness.plugin.collector import RunCollector
from harness.plugin.drift_report import DriftExtras, drift_extras, suppression_lines
from harness.plugin.isolation import with_upstream_drift
from harness.plugin.session import HarnessSession
from harness.plugin.sharding import shard_spec
from harness.report.drift_json import RunInfo, build_document, graph_section, write_json
from harness.report.history import Trend, append_run, trend_of
from harness.report.html import write_drift_report

log = logging.getLogger(__name__)

TREND_RUNS = 30                             # runs on the report's trend chart


def write_run_reports(session: HarnessSession, collector: RunCollector, *, finished: str) -> list[str]:
    """Write drift.json, the history entry and the HTML report when the run had drift items; lines to print.

    A shard (`--shard`) writes no history: it is a part of a run, and `stackharness report merge`
    appends the whole run.
    """
    records = collector.drift_records()
    credentials = collector.credential_rows()
    if not records and credentials is None:
        return []
    results, errors = collector.drift_results()
    results = with_upstream_drift(results, session.graph)
    instances = sorted({r.instance for r in records})
    return write_reports(session, started=collector.started, finished=finished, instances=instances,
                         results=results, errors=errors, workers=max(1, len(collector.workers)),
                         api_calls=collector.api_calls(), credentials=credentials,
                         extras=drift_extras(session, collector, results))


def write_reports(session: HarnessSession, *, started: str, finished: str, instances: list[str],
                  results: Iterable[Any], errors: Iterable[Any], workers: int,
                  api_calls: dict[str, Any] | None, credentials: list[dict[str, Any]] | None = None,
                  extras: DriftExtras | None = None) -> list[str]:
    """Build the document and write every report; also used for a shard that got no instance.

    `extras` are the controller-side parts of the drift engine: unmanaged findings, their errors,
    and the expired/stale suppression report."""
    config = session.config
    spec = shard_spec(session.pytest_config)
    run = RunInfo(started=started, finished=finished, repo=str(config.stacks_repo),
                  selection={k: v for k, v in session.selection.items() if v}, workers=workers,
                  shard=str(spec) if spec else None, instances=tuple(instances))
    extras = extras or DriftExtras(unmanaged_check="on" if config.unmanaged.enabled else "off")
    document = build_document(run, results, instances=len(instances), extra_errors=[*errors, *extras.errors],
                              unmanaged=extras.unmanaged, api_calls=api_calls, suppressions=extras.suppressions,
                              unmanaged_check=extras.unmanaged_check, graph=run_graph(session, instances),
                              redactor=session.redactor)
    if credentials is not None:
        # `credentials`: the `creds check --format json` rows of every credential item, by days left
        # (absent when no credential item ran; empty when they ran and found none).
        document["credentials"] = session.redactor.redact_obj(credentials)
    json_path = write_json(config.drift_json_path, document)
    trend, history_line = _record_history(session, document) if spec is None else (None, None)
    html_path = write_drift_report(config.drift_report_path, document, redactor=session.redactor, trend=trend)
    summary = document["summary"]
    lines = [f"drift: {summary['changed']} changed, {summary['missing']} missing, {summary['unmanaged']} unmanaged, "
             f"{summary['suppressed']} suppressed, {summary['errors']} errors in {summary['instances']} instances"
             + (f" (shard {spec})" if spec else ""),
             *suppression_lines(document),
             *([f"credentials checked — {status_summary(r['status'] for r in credentials) or 'none found'}"]
               if credentials is not None else []),
             f"drift results: {json_path}", f"drift report:  {html_path}"]
    if history_line:
        lines.append(history_line)
    if (config.notify_webhook or config.notify_sns_topic) and spec is None:   # a merge notifies for shards
        lines += _notify(session, document, trend, html_path)
    return lines


def run_graph(session: HarnessSession, instances: list[str]) -> dict[str, Any] | None:
    """The dependency graph of the run's instances for drift.json (None when the stacks do not load)."""
    try:
        graph = session.graph
    except Exception as exc:  # the report is still written, without the picture
        log.warning("drift report: no dependency graph (%s)", exc)
        return None
    return graph_section(graph.subgraph([i for i in instances if i in graph]))


def _record_history(session: HarnessSession, document: dict[str, Any]) -> tuple[Trend | None, str | None]:
    config = session.config
    try:
        path = append_run(config.history_path, document, retention=config.history_retention)
        return trend_of(config.history_path, last=TREND_RUNS), f"drift history: {path}"
    except OSError as exc:
        log.warning("drift history not written: %s", exc)
        return None, f"drift history not written: {exc}"


def _notify(session: HarnessSession, document: dict[str, Any], trend: Trend | None, html_path: Any) -> list[str]:
    from harness.report.notify import artifact_link, notify, summary

    config = session.config
    payload = summary(document, trend, link=artifact_link(html_path))
    try:
        pool = session.pool if config.notify_sns_topic else None
    except Exception as exc:
        return [f"notification failed: no AWS session ({exc})"]
    return notify(payload, webhook=config.notify_webhook, sns_topic=config.notify_sns_topic, pool=pool,
                  redactor=session.redactor)
