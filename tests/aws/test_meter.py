"""The API meter: counts by (service, operation, account, region, outcome), summary shape, merging."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from harness.aws import ApiMeter
from harness.aws.answers import answer_codes
from harness.aws.latency import bucket, percentile
from harness.aws.meter import OUTCOMES, CallKey, outcome_of
from harness.report.merge import merge_api_calls


def test_every_call_is_counted_with_its_dimensions(make_aws, raw):
    raw("sqs", "eu-west-1").create_queue(QueueName="q1")
    aws = make_aws()
    aws.client("s3").list_buckets()
    aws.client("s3").list_buckets()
    aws.client("sqs", region="eu-west-1").list_queues()
    with pytest.raises(Exception):  # noqa: B017 - a failed call is counted too
        aws.client("iam").get_user(UserName="ghost")
    summary = aws.meter.summary()
    scopes = summary.pop("by_scope")
    assert summary == {"total": 4, "by_operation": {"iam.GetUser": 1, "s3.ListBuckets": 2,
                                                    "sqs.ListQueues": 1},
                       "retried": 0, "throttled": 0, "failed": 1}
    assert {name: (s["calls"], s["failed"]) for name, s in scopes.items()} == {
        "default/us-east-1": (3, 1), "default/eu-west-1": (1, 0)}
    for scope in scopes.values():  # (fake clock: latencies are 0)
        assert 0 <= scope["latency_ms"]["p50"] <= scope["latency_ms"]["p95"] <= scope["latency_ms"]["max"]
    summary["by_scope"] = scopes
    assert aws.meter.count("sqs.ListQueues", region="eu-west-1", account="default", outcome="ok") == 1
    assert aws.meter.count("iam.GetUser", outcome="failed") == 1
    assert json.loads(json.dumps(summary)) == summary            # goes into drift.json as is


def test_an_error_code_the_caller_expects_is_an_answer_not_a_failure(make_aws, raw):
    raw("s3").create_bucket(Bucket="untagged")
    aws = make_aws()
    s3 = aws.client("s3")
    for expected in (("NoSuchTagSet",), ("SomethingElse",)):
        with answer_codes(expected), pytest.raises(ClientError, match="NoSuchTagSet"):
            s3.get_bucket_tagging(Bucket="untagged")       # the caller still sees the error itself
    assert aws.meter.count("s3.GetBucketTagging", outcome="ok") == 1
    assert aws.meter.count("s3.GetBucketTagging", outcome="failed") == 1
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket="untagged")           # outside the block: a failure again
    assert aws.meter.summary()["failed"] == 2


def test_latency_is_measured_on_the_layer_clock(make_aws, clock):
    aws = make_aws(inject_aws_faults="latency_ms=250")
    aws.client("s3").list_buckets()
    row = aws.meter.snapshot()["rows"][0]
    assert row["latency_total"] == pytest.approx(0.25)
    assert row["latency_max"] == pytest.approx(0.25)


def test_outcome_labels():
    assert outcome_of(failed=False, attempts=1, throttles=0) == "ok"
    assert outcome_of(failed=False, attempts=3, throttles=0) == "retried"
    assert outcome_of(failed=False, attempts=3, throttles=1) == "throttled"
    assert outcome_of(failed=True, attempts=8, throttles=8) == "failed"


def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError):
        ApiMeter().record(CallKey("s3", "ListBuckets", "a", "r", "maybe"))


_calls = st.lists(st.tuples(st.sampled_from(["s3", "ec2", "iam"]), st.sampled_from(["ListA", "DescribeB"]),
                            st.sampled_from(["111", "222"]), st.sampled_from(["us-east-1", "eu-west-1"]),
                            st.sampled_from(OUTCOMES), st.integers(1, 8), st.integers(0, 8),
                            st.floats(0, 10)), max_size=40)


def _meter(calls) -> ApiMeter:
    meter = ApiMeter()
    for service, op, account, region, outcome, attempts, throttles, latency in calls:
        meter.record(CallKey(service, op, account, region, outcome), attempts=attempts,
                     throttles=throttles, latency=latency)
    return meter


@given(first=_calls, second=_calls)
def test_merging_snapshots_equals_counting_in_one_meter(first, second):
    together = _meter(first + second)
    merged = ApiMeter.merged([json.loads(json.dumps(_meter(first).snapshot())),
                              json.loads(json.dumps(_meter(second).snapshot()))])
    assert merged.summary() == together.summary()
    assert merged.attempts() == together.attempts()
    for a, b in zip(merged.snapshot()["rows"], together.snapshot()["rows"], strict=True):
        assert a.keys() == b.keys()
        for name in a:
            assert a[name] == (pytest.approx(b[name]) if isinstance(b[name], float) else b[name])


def test_snapshot_of_another_version_is_refused():
    with pytest.raises(ValueError, match="version"):
        ApiMeter().merge({"version": 99, "rows": []})


@given(first=_calls, second=_calls)
def test_merging_shard_summaries_equals_one_run(first, second):
    """drift.json shards carry summaries, not snapshots: by_scope (with latency) still adds up exactly."""
    shards = [json.loads(json.dumps(_meter(calls).summary())) for calls in (first, second)]
    assert merge_api_calls(shards) == json.loads(json.dumps(_meter(first + second).summary()))


@given(st.lists(st.floats(0.01, 60_000), min_size=1, max_size=200), st.sampled_from([0.5, 0.95]))
def test_percentiles_are_within_one_bucket_above_the_true_value(latencies, q):
    histogram: dict[int, int] = {}
    for ms in latencies:
        histogram[bucket(ms)] = histogram.get(bucket(ms), 0) + 1
    true = sorted(latencies)[max(1, -(-int(q * 1000) * len(latencies) // 1000)) - 1]
    reported = percentile(histogram, q, max(latencies))
    assert true - 0.05 <= reported <= max(true, 0.25) * 2 ** 0.25 + 0.05     # (rounded to 0.1 ms)


def test_summary_by_scope_counts_outcomes_and_latency_per_account_and_region():
    meter = ApiMeter()
    for latency, outcome in ((0.010, "ok"), (0.020, "ok"), (0.040, "throttled"), (2.0, "failed")):
        meter.record(CallKey("s3", "ListBuckets", "111", "us-east-1", outcome),
                     attempts=2 if outcome != "ok" else 1, throttles=int(outcome == "throttled"), latency=latency)
    meter.record(CallKey("ec2", "DescribeVpcs", "222", "eu-west-1", "ok"), latency=0.005)
    scope = meter.summary()["by_scope"]["111/us-east-1"]
    assert (scope["calls"], scope["failed"], scope["throttled"], scope["retried"]) == (4, 1, 1, 2)
    assert scope["latency_ms"]["max"] == 2000.0
    assert 20 <= scope["latency_ms"]["p50"] <= 20 * 2 ** 0.25 and scope["latency_ms"]["p95"] == 2000.0
    assert meter.summary()["by_scope"]["222/eu-west-1"]["calls"] == 1
