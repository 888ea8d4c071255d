"""Write the run's reports from what the controller collected."""

from __future__ import annotations

from harness.plugin.collector import RunCollector
from harness.plugin.drift_report import drift_extras, suppression_lines
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
    run = RunInfo(started=collector.started, finished=finished, repo=str(config.stacks_repo),
                  selection={k: v for k, v in session.selection.items() if v},
                  workers=max(1, len(collector.workers)))
    extras = drift_extras(session, collector, results)
    document = build_document(run, results, instances=len({r.instance for r in records}),
                              extra_errors=[*errors, *extras.errors], unmanaged=extras.unmanaged,
                              api_calls=collector.api_calls(), suppressions=extras.suppressions,
                              unmanaged_check=extras.unmanaged_check, redactor=session.redactor)
    json_path = write_json(config.drift_json_path, document)
    html_path = write_drift_report(config.drift_report_path, document, redactor=session.redactor)
    summary = document["summary"]
    return [f"drift: {summary['changed']} changed, {summary['missing']} missing, {summary['unmanaged']} unmanaged, "
            f"{summary['errors']} errors in {summary['instances']} instances",
            *suppression_lines(document),
            f"drift results: {json_path}", f"drift report:  {html_path}"]
