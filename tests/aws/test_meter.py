"""The API meter: counts by (service, operation, account, region, outcome), summary shape, merging."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.aws import ApiMeter
from harness.aws.meter import OUTCOMES, CallKey, outcome_of


def test_every_call_is_counted_with_its_dimensions(make_aws, raw):
    raw("sqs", "eu-west-1").create_queue(QueueName="q1")
    aws = make_aws()
    aws.client("s3").list_buckets()
    aws.client("s3").list_buckets()
    aws.client("sqs", region="eu-west-1").list_queues()
    with pytest.raises(Exception):  # noqa: B017 - a failed call is counted too
        aws.client("iam").get_user(UserName="ghost")
    summary = aws.meter.summary()
    assert summary == {"total": 4, "by_operation": {"iam.GetUser": 1, "s3.ListBuckets": 2,
                                                    "sqs.ListQueues": 1},
                       "retried": 0, "throttled": 0}
    assert aws.meter.count("sqs.ListQueues", region="eu-west-1", account="default", outcome="ok") == 1
    assert aws.meter.count("iam.GetUser", outcome="failed") == 1
    assert json.loads(json.dumps(summary)) == summary            # goes into drift.json as is


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
