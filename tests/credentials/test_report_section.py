"""The credentials section of the HTML report: sorted by days left, only when there are credentials."""

from __future__ import annotations

from harness.log import Redactor
from harness.report.credentials import render_credentials_section, sort_rows
from harness.report.drift_json import RunInfo, build_document
from harness.report.html import render_drift_report


def row(id_: str, status: str, days: int | None, **extra) -> dict:
    return {"kind": "acm_certificate", "id": id_, "arn": None, "name": f"{id_}.example.com", "account": "1",
            "region": "us-east-1", "instance": "tls@prod", "expires_at": None, "days_left": days, "age_days": 1,
            "status": status, "policy": {"profile": "prod"}, **extra}


ROWS = [row("later", "ok", 300), row("none", "ok", None), row("gone", "expired", -4), row("soon", "critical", 2)]


def test_rows_sorted_by_days_left_with_undated_last():
    assert [r["id"] for r in sort_rows(ROWS)] == ["gone", "soon", "later", "none"]


def test_section_fragment():
    html = render_credentials_section(ROWS, redactor=Redactor())
    order = [html.index(f"{name}.example.com") for name in ("gone", "soon", "later", "none")]
    assert order == sorted(order)
    assert '<span class="st expired">expired</span>' in html and html.count('class="credential"') == 4


def test_drift_report_includes_the_section_only_with_credentials():
    run = RunInfo(started="2030-01-01T00:00:00Z", finished="2030-01-01T00:01:00Z", repo="/repo")
    document = build_document(run, [], instances=0, redactor=Redactor())
    assert 'id="credentials"' not in render_drift_report(document, redactor=Redactor())
    document["credentials"] = sort_rows(ROWS)
    html = render_drift_report(document, redactor=Redactor())
    assert html.count('<section id="credentials">') == 1 and "gone.example.com" in html
    assert 'href="#credentials"' in html   # the header links to the section
    assert 'id="credentials-none"' not in html
    document["credentials"] = []                                     # checked, none found
    html = render_drift_report(document, redactor=Redactor())
    assert html.count('<section id="credentials">') == 1 and 'id="credentials-none"' in html
    assert 'id="credentials-table"' not in html


def test_secret_registered_later_is_masked_in_the_section():
    redactor = Redactor(["tls@prod-secret-token"])
    html = render_credentials_section([row("x", "ok", 5, instance="tls@prod-secret-token")], redactor=redactor)
    assert "tls@prod-secret-token" not in html and "[redacted]" in html
