"""The HTML drift report: self-contained, escaped, redacted, and every section from drift.json."""

from __future__ import annotations

import json
import re

from harness.drift.findings import SENSITIVE_CHANGED, EvaluationError, Finding, InstanceResult
from harness.graph import DependencyGraph
from harness.log import Redactor
from harness.report.drift_json import RunInfo, build_document, graph_of, graph_section
from harness.report.history import analyse
from harness.report.html import render_drift_report
from harness.report.view import cards, days_left, duration_text, findings_blob, heat_map, run_date

RUN = RunInfo(started="2026-11-26T01:00:00Z", finished="2026-11-26T01:01:05Z", repo="/repo",
              instances=("bucket@dev", "sg@dev", "bucket@prod"))


def finding(**kw):
    base = {"kind": "changed", "address": "aws_s3_bucket.this", "type": "aws_s3_bucket", "resource_id": "b",
            "path": "tags.Owner", "expected": "a", "actual": "b", "instance": "bucket@dev", "stack": "dev",
            "component": "bucket", "environment_type": "dev"}
    return Finding(**{**base, **kw})


def external_references(html: str) -> list[str]:
    """Anything that would make the browser fetch from the network (plain <a href> links are fine)."""
    patterns = [r"<script[^>]+src=", r"<link[^>]+href=", r"url\((?!#)", r"@import", r"fetch\(",
                r"<img[^>]+src=", r"XMLHttpRequest", r"<iframe", r"new\s+WebSocket", r"\bimport\("]
    return [p for p in patterns if re.search(p, html, re.IGNORECASE)]


def blob_of(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', html, re.DOTALL)
    assert match, "the findings blob is missing"
    return json.loads(match.group(1))


def document_of(*results, errors=(), graph=None, run=RUN, **extra):
    document = build_document(run, results, instances=3, extra_errors=errors, graph=graph, redactor=Redactor())
    document.update(extra)
    return document


def test_report_is_self_contained_and_values_never_become_markup():
    result = InstanceResult("bucket@dev", findings=(finding(actual="<script>alert(1)</script>"),), resources=1,
                            checked=1)
    html = render_drift_report(document_of(result), redactor=Redactor())
    assert external_references(html) == []
    assert "<script>alert(1)</script>" not in html and "</script><" not in html.split("findings-data")[1][:200]
    blob = blob_of(html)
    assert "<script>alert(1)</script>" in blob["strings"]     # data, rendered by the page with escaping


def test_header_cards_and_errors_are_shown_and_errors_are_never_clean():
    result = InstanceResult("bucket@dev", findings=(finding(), finding(kind="missing", path="", address="aws_x.y")),
                            errors=(EvaluationError("bucket@dev", "AccessDenied", "aws_z.z"),), resources=3, checked=2)
    document = document_of(result)
    document["summary"]["api_calls"] = {"total": 42, "by_operation": {}, "retried": 3, "throttled": 7}
    html = render_drift_report(document, redactor=Redactor())
    assert "42 (7 throttled, 3 retried)" in html and "(1m 05s)" in html
    assert re.search(r'class="card bad" data-key="errors"', html)
    assert re.search(r'class="card bad" data-key="changed"', html)
    assert "could not be evaluated" in html and "AccessDenied" in html
    assert "Every selected resource was evaluated." not in html
    assert {f["path"] for f in document["findings"]} <= set(blob_of(html)["strings"])


def test_clean_run_says_so():
    html = render_drift_report(document_of(InstanceResult("a@dev", resources=1, checked=1)), redactor=Redactor())
    assert "No drift found." in html and "Every selected resource was evaluated." in html
    assert 'id="findings-data"' not in html and re.search(r'class="card ok" data-key="changed"', html)


def test_cards_are_coloured_by_meaning():
    tones = {c.key: c.tone for c in cards({"instances": 3, "checked": 5, "unchecked": 2, "changed": 0,
                                            "missing": 1, "unmanaged": 0, "suppressed": 4, "errors": 0})}
    assert tones == {"instances": "neutral", "checked": "ok", "unchecked": "warn", "changed": "ok", "missing": "bad",
                     "unmanaged": "ok", "suppressed": "warn", "errors": "ok"}


def test_heat_map_counts_unsuppressed_drift_and_marks_errors():
    results = [InstanceResult("bucket@dev", findings=(finding(), finding(path="tags.A"),
                                                      finding(path="tags.B", suppressed=True))),
               InstanceResult("bucket@prod", errors=(EvaluationError("bucket@prod", "throttled"),))]
    heat = heat_map(document_of(*results))
    cell = {(s, c): heat.cells[i][j] for i, s in enumerate(heat.stacks) for j, c in enumerate(heat.components)}
    assert heat.stacks[0] in ("dev", "prod")
    assert cell[("dev", "bucket")]["count"] == 2 and cell[("dev", "bucket")]["level"] == 5
    assert cell[("prod", "bucket")]["errors"] == 1 and cell[("prod", "bucket")]["count"] == 0
    assert cell[("dev", "sg")] == {"count": 0, "errors": 0, "level": 0}      # checked, clean
    assert cell[("prod", "sg")] is None                                       # not in the run


def test_sensitive_values_are_kept_as_the_marker_and_long_values_as_text():
    long_policy = {"Statement": [{"Action": [f"s3:Get{n}" for n in range(40)]}]}
    result = InstanceResult("bucket@dev", findings=(
        finding(path="tags.Token", expected=SENSITIVE_CHANGED, actual=SENSITIVE_CHANGED),
        finding(path="policy", expected=long_policy, actual={"Statement": []})))
    blob = findings_blob(document_of(result)["findings"], as_of=None)
    assert blob["sensitive"] == SENSITIVE_CHANGED and SENSITIVE_CHANGED in blob["strings"]
    texts = [blob["strings"][row[blob["fields"].index("expected")]] for row in blob["rows"]]
    assert any(len(t) > 500 and "\n" in t for t in texts)                  # indented JSON, folded by the page


def test_suppressed_findings_expired_and_stale_suppressions_have_their_section():
    entry = {"match": {"instance": "bucket@dev", "path": "tags.Owner"}, "reason": "migration", "owner": "team-a",
             "expires": "2026-12-06", "ticket": "OPS-1"}
    result = InstanceResult("bucket@dev", findings=(finding(suppressed=True, suppression=entry),))
    expired = {"match": {"instance": "sg@*"}, "reason": "old", "owner": "team-b", "expires": "2026-11-01",
               "source": "drift-suppressions.yaml", "line": 7}
    stale = {"match": {"address": "aws_gone.*"}, "reason": "never matches", "owner": "team-c", "expires": "2027-01-01"}
    document = document_of(result, suppressions={"expired": [expired], "stale": [stale]})
    html = render_drift_report(document, redactor=Redactor())
    suppressed = html.split('id="suppressed-table"')[1].split("</table>")[0]
    assert "migration" in suppressed and "team-a" in suppressed and "OPS-1" in suppressed
    assert ">10<" in suppressed                                   # days left, counted from the run's day
    assert "Expired suppressions (1)" in html and "drift-suppressions.yaml:7" in html and ">-25<" in html
    assert "Stale suppressions (1)" in html and "never matches" in html
    assert days_left("2026-12-06", run_date(document)) == 10


def test_graph_of_the_run_highlights_drifted_instances():
    graph = DependencyGraph.from_edges(["bucket@dev", "sg@dev", "bucket@prod"], [("bucket@dev", "sg@dev")])
    document = document_of(InstanceResult("bucket@dev", findings=(finding(),)), graph=graph_section(graph))
    assert graph_of(document).edges == graph.edges
    html = render_drift_report(document, redactor=Redactor())
    section = html.split('<section id="graph">')[1]
    assert 'shg-hl" data-i="0" data-key="bucket@dev"' in section
    assert 'data-key="sg@dev"' in section and 'shg-hl" data-i="1"' not in section
    assert external_references(html) == []


def test_trend_chart_and_history_badges_come_from_the_history():
    first = document_of(InstanceResult("bucket@dev", findings=(finding(path="tags.Old"), finding())),
                        run=RunInfo("2026-11-25T01:00:00Z", "2026-11-25T01:01:00Z", "/repo", instances=("bucket@dev",)))
    second = document_of(InstanceResult("bucket@dev", findings=(finding(), finding(path="tags.New"))))
    trend = analyse([first, second])
    html = render_drift_report(second, redactor=Redactor(), trend=trend)
    assert "<svg" in html.split('<section id="trend">')[1].split("</section>")[0]
    assert "1 new" in html and "1 recurring" in html and "1 resolved" in html
    blob = blob_of(html)
    status = {blob["strings"][r[blob["fields"].index("path")]]: blob["strings"][r[blob["fields"].index("status")]]
              for r in blob["rows"]}
    assert status == {"tags.Owner": "recurring", "tags.New": "new"}
    assert "No history yet" in render_drift_report(second, redactor=Redactor())


def test_registered_secrets_never_reach_json_or_html():
    redactor = Redactor(["canary-report-secret"])
    result = InstanceResult("a@dev", findings=(finding(actual="canary-report-secret", path="tags.Token"),))
    document = build_document(RUN, [result], instances=1, redactor=redactor)
    assert "canary-report-secret" not in str(document)
    assert "canary-report-secret" not in render_drift_report(document, redactor=redactor)
    # A value registered after drift.json was built is still masked in the page.
    late = Redactor()
    document = build_document(RUN, [result], instances=1, redactor=late)
    late.register("canary-report-secret")
    assert "canary-report-secret" not in render_drift_report(document, redactor=late)


def test_duration_text():
    assert duration_text("2026-11-26T01:00:00Z", "2026-11-26T02:03:04Z") == "1h 03m 04s"
    assert duration_text("2026-11-26T01:00:00Z", "2026-11-26T01:00:09Z") == "9s"
    assert duration_text("nonsense", "2026-11-26T01:00:09Z") == ""


def test_set_findings_label_their_sides_removed_and_added_in_the_report_and_attachment():
    from harness.report.diff_table import findings_table_html

    rule = {"protocol": "tcp", "from_port": 22}
    result = InstanceResult("sg@dev", findings=(
        finding(address="aws_security_group.web", path="ingress", expected=[], actual=[rule], set_diff=True),
        finding()), resources=2, checked=2)
    document = document_of(result)
    blob = blob_of(render_drift_report(document, redactor=Redactor()))
    fields = blob["fields"]
    rows = {blob["strings"][r[fields.index("path")]]: r for r in blob["rows"]}
    side = lambda row, name: blob["strings"][row[fields.index(name)]]   # noqa: E731
    assert side(rows["ingress"], "expected") == "removed (in state only): []"
    assert side(rows["ingress"], "actual").startswith("added (live only): ") and "22" in side(rows["ingress"], "actual")
    assert (side(rows["tags.Owner"], "expected"), side(rows["tags.Owner"], "actual")) == ("a", "b")
    attachment = findings_table_html(document["findings"])
    assert attachment.count("removed (in state only):") == 1 and attachment.count("added (live only):") == 1


def test_header_shows_api_calls_by_account_and_region_with_latency():
    from harness.aws.meter import ApiMeter, CallKey

    meter = ApiMeter()
    meter.record(CallKey("s3", "ListBuckets", "111122223333", "eu-west-1", "ok"), latency=0.012)
    meter.record(CallKey("s3", "GetBucketTagging", "111122223333", "eu-west-1", "failed"), latency=0.5)
    document = document_of(InstanceResult("a@dev", resources=1, checked=1))
    document["summary"]["api_calls"] = meter.summary()
    html = render_drift_report(document, redactor=Redactor())
    assert "2 (0 throttled, 0 retried, 1 failed)" in html
    row = re.search(r'<tr data-scope="111122223333/eu-west-1">(.*?)</tr>', html).group(1)
    assert re.findall(r"<td>(.*?)</td>", row) == ["111122223333/eu-west-1", "2", "1", "0", "0",
                                                  "13.5 ms", "500 ms", "500 ms"]   # p50: its bucket bound
