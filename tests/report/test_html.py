"""The HTML drift report: self-contained, escaped, redacted, grouped."""

from __future__ import annotations

import re

from harness.drift.findings import EvaluationError, Finding, InstanceResult
from harness.log import Redactor
from harness.report.drift_json import RunInfo, build_document
from harness.report.html import render_drift_report

RUN = RunInfo(started="2026-11-26T01:00:00Z", finished="2026-11-26T01:01:00Z", repo="/repo")


def finding(**kw):
    base = {"kind": "changed", "address": "aws_s3_bucket.this", "type": "aws_s3_bucket", "resource_id": "b",
            "path": "tags.Owner", "expected": "a", "actual": "b", "instance": "bucket@dev", "stack": "dev",
            "component": "bucket"}
    return Finding(**{**base, **kw})


def external_references(html: str) -> list[str]:
    """Anything that would make the browser fetch from the network."""
    patterns = [r"<script[^>]+src=", r"<link[^>]+href=", r"url\(", r"@import", r"fetch\(",
                r"<img[^>]+src=\"?https?:", r"XMLHttpRequest"]
    return [p for p in patterns if re.search(p, html, re.IGNORECASE)]


def test_report_is_self_contained_and_escapes_values():
    result = InstanceResult("bucket@dev", findings=(finding(actual="<script>alert(1)</script>"),), resources=1,
                            checked=1)
    document = build_document(RUN, [result], instances=1, redactor=Redactor())
    html = render_drift_report(document, redactor=Redactor())
    assert external_references(html) == []
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_summary_findings_and_errors_are_shown():
    result = InstanceResult("bucket@dev", findings=(finding(), finding(kind="missing", path="", address="aws_x.y")),
                            errors=(EvaluationError("bucket@dev", "AccessDenied", "aws_z.z"),), resources=3, checked=2)
    document = build_document(RUN, [result], instances=1, redactor=Redactor())
    assert document["summary"]["changed"] == 1 and document["summary"]["missing"] == 1
    assert document["summary"]["errors"] == 1
    html = render_drift_report(document, redactor=Redactor())
    assert "tags.Owner" in html and "aws_x.y" in html and "AccessDenied" in html
    assert 'data-key="errors"' in html


def test_clean_run_says_so_and_errors_are_never_clean():
    document = build_document(RUN, [InstanceResult("a@dev", resources=1, checked=1)], instances=1,
                              redactor=Redactor())
    html = render_drift_report(document, redactor=Redactor())
    assert "No drift found." in html and "Every selected resource was evaluated." in html
    document = build_document(RUN, [], instances=1, extra_errors=[EvaluationError("a@dev", "state missing")],
                              redactor=Redactor())
    html = render_drift_report(document, redactor=Redactor())
    assert "Every selected resource was evaluated." not in html and "state missing" in html


def test_registered_secrets_never_reach_json_or_html():
    redactor = Redactor(["canary-report-secret"])
    result = InstanceResult("a@dev", findings=(finding(actual="canary-report-secret", path="tags.Token"),))
    document = build_document(RUN, [result], instances=1, redactor=redactor)
    assert "canary-report-secret" not in str(document)
    assert "canary-report-secret" not in render_drift_report(document, redactor=redactor)
