"""History and trends: fingerprints over runs, new/recurring/resolved, totals, retention, `report trend`."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.drift.findings import EvaluationError, Finding, InstanceResult
from harness.log import Redactor
from harness.report.drift_json import RunInfo, build_document, write_json
from harness.report.history import analyse, append_run, history_files, load_history, trend_of

TREND_KEYS = {"started", "changed", "missing", "unmanaged", "suppressed", "errors"}
FINDING_KEYS = {"fingerprint", "instance", "address", "kind", "path", "status", "first_seen", "last_seen",
                "runs_seen"}


def f(instance: str, path: str, kind: str = "changed", **kw) -> Finding:
    component, _, stack = instance.partition("@")
    return Finding(kind=kind, address="aws_s3_bucket.this", type="aws_s3_bucket", resource_id="b",
                   path=path if kind == "changed" else "", instance=instance, stack=stack, component=component,
                   **kw)


def run(day: int, findings: list[Finding], *, errors: list[EvaluationError] = (),
        instances: tuple[str, ...] = ("a@dev", "b@dev", "c@dev")) -> dict:
    by_instance = {i: InstanceResult(i, findings=tuple(x for x in findings if x.instance == i),
                                     errors=tuple(e for e in errors if e.instance == i), resources=2, checked=2)
                   for i in instances}
    info = RunInfo(started=f"2026-11-{day:02d}T01:00:00Z", finished=f"2026-11-{day:02d}T01:05:00Z", repo="/r",
                   instances=instances)
    return build_document(info, by_instance.values(), instances=len(instances), redactor=Redactor())


def three_runs() -> list[dict]:
    return [
        run(1, [f("a@dev", "tags.A"), f("a@dev", "tags.B"), f("b@dev", "tags.C")]),
        run(2, [f("a@dev", "tags.B"), f("b@dev", "tags.C"), f("c@dev", "tags.D"), f("b@dev", "", kind="missing")]),
        run(3, [f("b@dev", "tags.C"), f("a@dev", "tags.A"), f("a@dev", "tags.E"),
                f("b@dev", "tags.S", suppressed=True)],
            errors=[EvaluationError("c@dev", "ThrottlingException: rate exceeded")]),
    ]


def test_three_runs_classify_new_recurring_resolved_and_total_each_run():
    trend = analyse(three_runs())
    status = {(x.instance, x.kind, x.path): (x.status, x.first_seen[:10], x.last_seen[:10], x.runs_seen)
              for x in trend.findings}
    assert status == {
        ("b@dev", "changed", "tags.C"): ("recurring", "2026-11-01", "2026-11-03", 3),
        ("a@dev", "changed", "tags.A"): ("recurring", "2026-11-01", "2026-11-03", 2),   # back after a gap
        ("a@dev", "changed", "tags.E"): ("new", "2026-11-03", "2026-11-03", 1),
        ("b@dev", "changed", "tags.S"): ("new", "2026-11-03", "2026-11-03", 1),
        ("a@dev", "changed", "tags.B"): ("resolved", "2026-11-01", "2026-11-02", 2),
        ("b@dev", "missing", ""): ("resolved", "2026-11-02", "2026-11-02", 1),
        # c@dev tags.D is not resolved: c@dev could not be evaluated in the latest run.
    }
    assert trend.counts() == {"new": 2, "recurring": 2, "resolved": 2}
    assert [(r.started[:10], r.changed, r.missing, r.suppressed, r.errors) for r in trend.runs] == [
        ("2026-11-01", 2, 0, 0, 0), ("2026-11-02", 3, 1, 0, 0), ("2026-11-03", 2, 0, 1, 1)]


def test_a_finding_of_an_instance_the_latest_run_did_not_cover_is_not_resolved():
    runs = [run(1, [f("a@dev", "tags.A"), f("b@dev", "tags.B")]), run(2, [], instances=("a@dev",))]
    trend = analyse(runs)
    assert [(x.instance, x.status) for x in trend.findings] == [("a@dev", "resolved")]


def test_trend_json_has_exactly_the_documented_shape():
    data = analyse(three_runs()).to_json()
    assert set(data) == {"runs", "findings"}
    assert all(set(r) == TREND_KEYS for r in data["runs"])
    assert all(set(x) == FINDING_KEYS for x in data["findings"])
    assert data["findings"][0]["fingerprint"] == "|".join(
        (data["findings"][0]["instance"], "aws_s3_bucket.this", "changed", data["findings"][0]["path"]))


def test_history_appends_prunes_oldest_and_survives_same_second_and_unreadable_files(tmp_path):
    history = tmp_path / "history"
    for document in three_runs():
        append_run(history, document, retention=0)
    append_run(history, three_runs()[2], retention=0)            # same start second: a second file
    names = [p.name for p in history_files(history)]
    assert names == ["drift-2026-11-01T01-00-00Z.json", "drift-2026-11-02T01-00-00Z.json",
                     "drift-2026-11-03T01-00-00Z.json", "drift-2026-11-03T01-00-00Z-2.json"]
    (history / "drift-2026-11-04T01-00-00Z.json").write_text("{not json")
    assert len(load_history(history)) == 4
    append_run(history, run(5, []), retention=2)
    assert [p.name for p in history_files(history)] == ["drift-2026-11-04T01-00-00Z.json",
                                                         "drift-2026-11-05T01-00-00Z.json"]
    trend = trend_of(history)
    assert [r.started[:10] for r in trend.runs] == ["2026-11-05"]


def test_report_trend_command_prints_the_json_and_the_tables(tmp_path, capsys):
    history = tmp_path / "history"
    for document in three_runs():
        append_run(history, document, retention=10)
    assert main(["report", "trend", "--history-dir", str(history), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == analyse(three_runs()).to_json()
    assert main(["report", "trend", "--history-dir", str(history), "--last", "2"]) == 0
    out = capsys.readouterr().out
    assert "2026-11-01" not in out.split("status")[0] and "2026-11-03T01:00:00Z" in out
    assert "2 new, 2 recurring, 2 resolved" in out
    drift_json = write_json(tmp_path / "drift.json", three_runs()[2])
    page = tmp_path / "again.html"
    assert main(["report", "html", "--drift-json", str(drift_json), "--drift-report", str(page),
                 "--history-dir", str(history)]) == 0
    assert "2 recurring" in page.read_text() and "<svg" in page.read_text()


FINGERPRINTS = st.sampled_from([("a@dev", "tags.A"), ("a@dev", "tags.B"), ("b@dev", "tags.A"), ("c@dev", "x")])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(FINGERPRINTS), min_size=1, max_size=6))
def test_classification_invariants(runs_of_keys):
    runs = [run(day + 1, [f(i, p) for i, p in sorted(keys)]) for day, keys in enumerate(runs_of_keys)]
    trend = analyse(runs)
    latest, earlier = runs_of_keys[-1], runs_of_keys[:-1]
    previous = earlier[-1] if earlier else set()
    got = {(x.instance, x.path): x for x in trend.findings}
    assert {k for k, x in got.items() if x.status != "resolved"} == latest
    assert {k for k, x in got.items() if x.status == "resolved"} == previous - latest
    for key, x in got.items():
        holding = [n for n, keys in enumerate(runs_of_keys) if key in keys]
        assert x.runs_seen == len(holding)
        assert x.first_seen[8:10] == f"{holding[0] + 1:02d}"
        if x.status != "resolved":
            assert (x.status == "new") == (holding == [len(runs_of_keys) - 1])
    assert [r.changed for r in trend.runs] == [len({i for i, _ in keys}) for keys in runs_of_keys]
