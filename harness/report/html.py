"""The self-contained HTML drift report, rendered with Jinja2 from a drift.json document.

Everything is inline (CSS, script, SVG, the findings as JSON); the page makes no network request.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from harness.graph_render import html_fragment
from harness.log import Redactor
from harness.report import view
from harness.report.drift_json import graph_of
from harness.report.history import Trend, annotate
from harness.report.trend_svg import trend_chart
from harness.templating import script_json, template_environment

ERRORS_SHOWN = 1000                         # errors listed in the page; drift.json has them all
RESOLVED_SHOWN = 200                        # resolved findings listed under the trend chart
PAGE_SIZE = 100                             # findings per page in the table


def report_environment() -> Environment:
    """The template environment of the reports, with the `show` filter for finding values."""
    env = template_environment()
    env.filters["show"] = view.show_value
    return env


show_value = view.show_value


def drifted_instances(document: Mapping[str, Any]) -> set[str]:
    """Instances with unsuppressed drift (highlighted in the dependency graph)."""
    return {f["instance"] for f in document.get("findings", ()) if f.get("instance") and not f.get("suppressed")}


def graph_markup(document: Mapping[str, Any]) -> Markup | None:
    """The run's dependency graph with drifted instances highlighted, or None when drift.json has no graph."""
    graph = graph_of(document)
    if graph is None or not len(graph):
        return None
    highlight = drifted_instances(document) & set(graph.nodes)
    return Markup(html_fragment(graph, highlight=sorted(highlight), element_id="run-graph"))


def render_drift_report(document: Mapping[str, Any], *, redactor: Redactor, trend: Trend | None = None) -> str:
    """The report as one HTML string that loads nothing from the network.

    `trend` (from the history, the current run included) adds the trend chart and marks each
    finding new or recurring; without it those parts say that no history was given.
    """
    findings = list(document.get("findings", ()))
    if trend is not None and trend.findings:
        findings = annotate(findings, trend)
    as_of = view.run_date(document)
    errors = list(document.get("errors", ()))
    suppressions = document.get("suppressions") or {}
    suppressed, suppressed_total = view.suppressed_findings(findings, as_of)
    template = report_environment().get_template("drift-report.html.j2")
    html = template.render(
        doc=document, run=document["run"], summary=document["summary"], head=view.header(document),
        cards=view.cards(document["summary"]), heat=view.heat_map(document),
        blob=Markup(script_json(view.findings_blob(findings, as_of=as_of))),
        filters=view.filter_options(findings), total_findings=len(findings), page_size=PAGE_SIZE,
        suppressed=suppressed, suppressed_total=suppressed_total,
        expired=[view.suppression_row(e, as_of) for e in suppressions.get("expired") or ()],
        stale=[view.suppression_row(e, as_of) for e in suppressions.get("stale") or ()],
        errors=errors[:ERRORS_SHOWN], errors_total=len(errors),
        graph=graph_markup(document),
        trend=trend, trend_svg=Markup(trend_chart(trend.runs)) if trend and trend.runs else None,
        trend_counts=trend.counts() if trend else None,
        resolved=[f for f in trend.findings if f.status == "resolved"][:RESOLVED_SHOWN] if trend else [],
        credentials=document.get("credentials"),
    )
    # The document's strings went through the redactor when drift.json was built; this pass catches
    # values registered since (the full pattern pass over megabytes of HTML would cost seconds).
    return redactor.redact_known(html)


def write_drift_report(path: Path, document: Mapping[str, Any], *, redactor: Redactor,
                       trend: Trend | None = None) -> Path:
    """Render and write the report; returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_drift_report(document, redactor=redactor, trend=trend), encoding="utf-8")
    tmp.replace(path)
    return path
