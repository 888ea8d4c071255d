"""Write the run's reports from what the controller collected."""

from __future__ import annotations

from harness.plugin.collector import RunCollector
from harness.plugin.isolation import with_upstream_drift
from harness.plugin.session import HarnessSession
from harness.report.drift_json import RunInfo, build_document, write_json
from harness.report.html import write_drift_report


def write_run_reports(session: HarnessSession, collector: RunCollector, *, finished: str) -> list[str]:
    """Write drift.json and the HTML report when the run had drift items; returns lines to print."""
    records = collector.drift_records()
    if not records:
        return []
    config = session.config
    results, errors = collector.drift_results()
    results = with_upstream_drift(results, session.graph)
    run = RunInfo(started=collector.started, finished=finished, repo=str(config.stacks_repo),
                  selection={k: v for k, v in session.selection.items() if v},
                  workers=max(1, len(collector.workers)))
    document = build_document(run, results, instances=len({r.instance for r in records}),
                              extra_errors=errors, api_calls=collector.api_calls(), redactor=session.redactor)
    json_path = write_json(config.drift_json_path, document)
    html_path = write_drift_report(config.drift_report_path, document, redactor=session.redactor)
    summary = document["summary"]
    return [f"drift: {summary['changed']} changed, {summary['missing']} missing, {summary['unmanaged']} unmanaged, "
            f"{summary['errors']} errors in {summary['instances']} instances",
            f"drift results: {json_path}", f"drift report:  {html_path}"]
