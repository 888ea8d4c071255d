"""Drift report generation at scale: drift.json build, history analysis, HTML render time and size.

Run from the repository root: `python benchmarks/bench_report.py`. Figures are wall and CPU seconds.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.log import Redactor
from harness.report.drift_json import write_json
from harness.report.history import analyse
from harness.report.html import write_drift_report
from tests.report.synthetic import synthetic_document


def measure(findings: int, history_runs: int = 10) -> None:
    start = time.perf_counter()
    document = synthetic_document(findings)
    built = time.perf_counter() - start
    runs = [synthetic_document(findings, seed=n + 2, started=f"2026-11-{n + 1:02d}T01:00:00Z",
                               finished=f"2026-11-{n + 1:02d}T01:20:00Z") for n in range(history_runs - 1)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        json_path = write_json(Path(tmp) / "drift.json", document)
        json_s = time.perf_counter() - start
        start = time.perf_counter()
        trend = analyse([*runs, document], last=30)
        trend_s = time.perf_counter() - start
        wall, cpu = time.perf_counter(), time.process_time()
        html = write_drift_report(Path(tmp) / "drift-report.html", document, redactor=Redactor(), trend=trend)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{findings:>6} findings ({document['summary']['instances']} instances): build+redact {built:.2f} s, "
              f"drift.json {json_s:.2f} s / {json_path.stat().st_size / 1e6:.1f} MB, history of {history_runs} "
              f"runs {trend_s:.2f} s, HTML {wall:.2f} s wall / {cpu:.2f} s CPU, {html.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    for count in (1_000, 10_000, 20_000):
        measure(count)
