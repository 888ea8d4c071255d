"""The report at scale: 10,000 findings render in under 3 s into under 5 MB, loading nothing from the network."""

from __future__ import annotations

import time

import pytest

from harness.log import Redactor
from harness.report.history import analyse
from harness.report.html import write_drift_report
from tests.report.synthetic import synthetic_document
from tests.report.test_html import blob_of, external_references

pytestmark = pytest.mark.slow


def test_ten_thousand_findings(tmp_path):
    document = synthetic_document(10_000)
    earlier = synthetic_document(10_000, seed=2, started="2026-11-25T01:00:00Z", finished="2026-11-25T01:20:00Z")
    trend = analyse([earlier, document])
    # CPU time of this process, so a busy shared machine does not make the figure flaky.
    start = time.process_time()
    path = write_drift_report(tmp_path / "drift-report.html", document, redactor=Redactor(["not-in-the-data"]),
                              trend=trend)
    seconds = time.process_time() - start
    html = path.read_text(encoding="utf-8")
    print(f"10,000 findings: {seconds:.2f} s CPU, {path.stat().st_size / 1e6:.2f} MB")
    assert seconds < 3.0
    assert path.stat().st_size < 5_000_000
    assert external_references(html) == []
    blob = blob_of(html)
    assert len(blob["rows"]) == 10_000 == len(document["findings"])
    assert '<section id="graph">' in html and 'class="heat"' in html and "<svg" in html
