"""Merging shards: the merged document is the one an unsharded run writes; missing shards are errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.drift.findings import EvaluationError, Finding, InstanceResult
from harness.errors import HarnessError
from harness.log import Redactor
from harness.report.drift_json import RunInfo, build_document, write_json
from harness.report.merge import merge_documents

INSTANCES = [f"c{n}@s{n % 3}" for n in range(8)]


def result(instance: str, paths: list[str], missing: bool, error: bool, suppressed: bool) -> InstanceResult:
    component, _, stack = instance.partition("@")
    findings = [Finding(kind="changed", address="aws_s3_bucket.this", type="aws_s3_bucket", resource_id="x",
                        path=p, instance=instance, stack=stack, component=component, suppressed=suppressed and n == 0)
                for n, p in enumerate(paths)]
    if missing:
        findings.append(Finding(kind="missing", address="aws_sqs_queue.q", type="aws_sqs_queue", resource_id="q",
                                instance=instance, stack=stack, component=component))
    errors = (EvaluationError(instance, "AccessDenied", "aws_iam_role.r"),) if error else ()
    return InstanceResult(instance, findings=tuple(findings), errors=errors, resources=3, checked=3 - error)


def document(results: list[InstanceResult], *, shard: str | None = None, started: str = "2026-11-26T01:00:00Z",
             calls: int = 10) -> dict:
    ids = tuple(r.instance for r in results)
    run = RunInfo(started=started, finished="2026-11-26T01:10:00Z", repo="/r", workers=2, shard=shard, instances=ids)
    api = {"total": calls, "by_operation": {"s3.GetBucketTagging": calls}, "retried": 1, "throttled": 1}
    return build_document(run, results, instances=len(ids), api_calls=api, redactor=Redactor())


RESULTS = st.fixed_dictionaries({i: st.tuples(st.lists(st.sampled_from(["tags.A", "tags.B", "ingress"]),
                                                       unique=True, max_size=3),
                                              st.booleans(), st.booleans(), st.booleans()) for i in INSTANCES})


@settings(max_examples=40, deadline=None)
@given(RESULTS, st.integers(min_value=1, max_value=4), st.randoms(use_true_random=False))
def test_merged_shards_equal_the_unsharded_document(spec, count, rnd):
    results = [result(i, *spec[i]) for i in INSTANCES]
    shards: list[list[InstanceResult]] = [[] for _ in range(count)]
    for r in results:
        shards[rnd.randrange(count)].append(r)
    parts = [document(s, shard=f"{n + 1}/{count}", started=f"2026-11-26T01:0{n}:00Z") for n, s in enumerate(shards)]
    rnd.shuffle(parts)
    merged, whole = merge_documents(parts), document(results)
    assert merged["findings"] == whole["findings"]
    assert merged["errors"] == whole["errors"]
    assert {k: v for k, v in merged["summary"].items() if k != "api_calls"} == \
        {k: v for k, v in whole["summary"].items() if k != "api_calls"}
    assert merged["summary"]["api_calls"]["total"] == 10 * count
    assert merged["run"]["instances"] == sorted(INSTANCES)
    assert merged["run"]["started"] == "2026-11-26T01:00:00Z" and merged["run"]["workers"] == 2 * count


def test_a_missing_shard_is_an_error_and_a_duplicated_one_is_refused():
    one = document([result("c0@s0", ["tags.A"], False, False, False)], shard="1/3")
    three = document([result("c1@s1", [], False, False, False)], shard="3/3")
    merged = merge_documents([one, three])
    assert [e["message"] for e in merged["errors"]] == [
        "shard 2/3 wrote no drift.json: its instances were not checked"]
    assert merged["summary"]["errors"] == 1 and merged["run"]["shards"] == ["1/3", "3/3"]
    with pytest.raises(HarnessError, match="more than once"):
        merge_documents([one, one])
    with pytest.raises(HarnessError, match="different shardings"):
        merge_documents([one, document([], shard="1/2")])


def test_a_suppression_stale_in_one_shard_but_used_in_another_is_not_stale():
    entry = {"match": {"instance": "c0@*"}, "reason": "r", "owner": "o", "expires": "2027-01-01"}
    never = {"match": {"instance": "zz@*"}, "reason": "r", "owner": "o", "expires": "2027-01-01"}
    used = document([InstanceResult("c0@s0", findings=(Finding(
        kind="changed", address="a.b", type="a", resource_id="x", path="p", instance="c0@s0", stack="s0",
        component="c0", suppressed=True, suppression=entry),))], shard="1/2")
    used["suppressions"] = {"expired": [], "stale": [never]}
    other = document([], shard="2/2")
    other["suppressions"] = {"expired": [never], "stale": [entry, never]}
    merged = merge_documents([used, other])
    assert merged["suppressions"] == {"expired": [never], "stale": [never]}


def test_shard_tallies_judge_stale_entries_over_the_whole_run_and_expired_entries_merge_once():
    never = {"id": "s.yaml:2", "match": {"instance": "zz@*"}, "reason": "r", "owner": "o", "expires": "2999-01-01",
             "ticket": None, "origin": "file", "status": "active"}
    used = {**never, "id": "s.yaml:6", "match": {"instance": "c0@*"}}
    old = {**never, "id": "s.yaml:9", "expires": "2020-01-01", "status": "expired"}

    def shard(n: int, covered: list[str], matched: int) -> dict:
        part = document([], shard=f"{n}/2")
        part["suppressions"] = {"expired": [{**old, "matched": matched}], "stale": [], "tally": {
            "entries": [{**never, "matched": 0}, {**used, "matched": matched}, {**old, "matched": matched}],
            "covered": covered, "deployable": 3, "unmanaged_checked": False}}
        return part

    merged = merge_documents([shard(1, ["c0@s0", "c1@s1"], 2), shard(2, ["c2@s2"], 0)])
    assert merged["suppressions"] == {"expired": [{**old, "matched": 2}], "stale": [never]}
    # The shards together missed a deployable instance: nothing can be called stale.
    assert merge_documents([shard(1, ["c0@s0"], 2), shard(2, ["c2@s2"], 0)])["suppressions"]["stale"] == []


def test_report_merge_command_writes_json_html_history_and_allure_and_notifies(tmp_path, capsys, webhook):
    shard_dirs = []
    for n, instance in enumerate(["c0@s0", "c1@s1"], start=1):
        folder = tmp_path / f"shard-{n}"
        write_json(folder / "drift.json", document([result(instance, ["tags.A"], False, False, False)],
                                                   shard=f"{n}/2"))
        results = folder / "allure-results"
        results.mkdir()
        (results / f"{n:08d}-0000-0000-0000-000000000000-result.json").write_text("{}")
        (results / "environment.properties").write_text("shard-only=1\n")
        shard_dirs.append(str(folder))
    out = tmp_path / "merged"
    before = len(webhook.received)
    assert main(["report", "merge", *shard_dirs, "--output", str(out), "--notify-webhook", webhook.url]) == 0
    (posted,) = webhook.received[before:]
    assert (posted["body"]["changed"], posted["body"]["new"], posted["body"]["status"]) == (2, 2, "drift")
    merged = json.loads((out / "drift.json").read_text())
    assert merged["summary"]["changed"] == 2 and merged["summary"]["instances"] == 2
    assert (out / "drift-report.html").is_file() and len(list((out / "history").iterdir())) == 1
    copied = sorted(p.name for p in (out / "allure-results").iterdir())
    assert copied == ["00000001-0000-0000-0000-000000000000-result.json",
                      "00000002-0000-0000-0000-000000000000-result.json",
                      "categories.json", "environment.properties", "executor.json"]
    assert "shard-only" not in (out / "allure-results" / "environment.properties").read_text()
    assert "merged 2 result(s)" in capsys.readouterr().out
    assert main(["report", "gate", str(out / "drift.json")]) == 1
    assert main(["report", "merge", str(tmp_path / "nowhere"), "--output", str(out)]) == 2


def test_report_gate_exit_codes(tmp_path, capsys):
    clean = write_json(tmp_path / "clean.json", document([result("c0@s0", [], False, False, False)]))
    suppressed = write_json(tmp_path / "sup.json", document([result("c0@s0", ["tags.A"], False, False, True)]))
    errors = write_json(tmp_path / "err.json", document([result("c0@s0", ["tags.A"], False, True, False)]))
    expired = document([])
    expired["suppressions"] = {"expired": [{"match": {}, "reason": "r", "owner": "o", "expires": "2020-01-01"}]}
    expired_path = write_json(tmp_path / "expired.json", expired)
    codes = [main(["report", "gate", str(p)]) for p in (clean, suppressed, errors, expired_path)]
    assert codes == [0, 0, 2, 1]
    assert "could not be evaluated" in capsys.readouterr().out
